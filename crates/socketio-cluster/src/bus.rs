//! An in-process [`Transport`]: the servers of one process form a cluster, each message going
//! through the `ClusterAdapter` wire format ([`encode_cluster`]) so that the encoding is
//! exercised too.

use std::sync::{Arc, Mutex, PoisonError, Weak};

use socketio_server::{Adapter, AdapterFuture};

use crate::engine::{ClusterAdapter, ClusterConfig, Transport};
use crate::message::{Message, decode_cluster, encode_cluster};

/// The shared medium of an in-process cluster. Cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct Bus {
    members: Arc<Mutex<Vec<Weak<ClusterAdapter>>>>,
}

impl Bus {
    /// An empty bus.
    pub fn new() -> Self {
        Self::default()
    }

    /// An adapter factory for `ServerBuilder::adapter`: every namespace of the server joins the
    /// bus.
    pub fn factory(
        &self,
        config: ClusterConfig,
    ) -> impl Fn(&str) -> Arc<dyn Adapter> + Send + Sync + 'static {
        let bus = self.clone();
        move |_nsp: &str| {
            let transport = Arc::new(BusTransport {
                bus: bus.clone(),
                me: Mutex::new(Weak::new()),
            });
            let adapter = ClusterAdapter::new(transport.clone(), config);
            *transport.me.lock().unwrap_or_else(PoisonError::into_inner) = Arc::downgrade(&adapter);
            bus.members
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(Arc::downgrade(&adapter));
            adapter as Arc<dyn Adapter>
        }
    }

    fn members(&self) -> Vec<Arc<ClusterAdapter>> {
        let mut members = self.members.lock().unwrap_or_else(PoisonError::into_inner);
        members.retain(|m| m.strong_count() > 0);
        members.iter().filter_map(Weak::upgrade).collect()
    }

    fn deliver(&self, from: &Weak<ClusterAdapter>, bytes: Vec<u8>, to: Option<&str>) {
        let members = self.members();
        let Some(message) = decode_cluster(&bytes) else {
            return;
        };
        for member in members {
            if from.as_ptr() == Arc::as_ptr(&member) {
                continue;
            }
            if to.is_some_and(|to| to != member.uid()) {
                continue;
            }
            member.handle(message.clone());
        }
    }
}

struct BusTransport {
    bus: Bus,
    me: Mutex<Weak<ClusterAdapter>>,
}

impl BusTransport {
    fn me(&self) -> Weak<ClusterAdapter> {
        self.me
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

impl Transport for BusTransport {
    fn publish(&self, message: Message) {
        self.bus.deliver(&self.me(), encode_cluster(&message), None);
    }

    fn publish_response(&self, requester: &str, message: Message) {
        self.bus
            .deliver(&self.me(), encode_cluster(&message), Some(requester));
    }

    fn server_count(&self) -> AdapterFuture<'_, Option<usize>> {
        let nsp = self
            .me()
            .upgrade()
            .and_then(|me| me.namespace().map(|ns| ns.name().to_owned()));
        let count = self
            .bus
            .members()
            .iter()
            .filter(|m| m.namespace().map(|ns| ns.name()) == nsp.as_deref())
            .count();
        Box::pin(async move { Some(count) })
    }

    fn close(&self) {
        let me = self.me();
        self.bus
            .members
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .retain(|m| !Weak::ptr_eq(m, &me));
    }
}
