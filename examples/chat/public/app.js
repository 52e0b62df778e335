// The chat page: plain JavaScript over the official socket.io browser client (the global `io`).
// The wire protocol is described at the top of examples/chat/src/chat.rs.
(() => {
  'use strict';

  const $ = (id) => document.getElementById(id);
  const TYPING_REFRESH_MS = 2000; // a "typing" notice is repeated this often while typing
  const TYPING_IDLE_MS = 3000; // no key for this long: "stopped typing"
  const TYPING_SHOWN_MS = 6000; // an indicator that is not refreshed goes away
  const KEPT_PER_CONVERSATION = 500;
  const ACK_TIMEOUT_MS = 30000;

  const state = {
    nickname: null,
    // A secret of this tab: coming back with it (reconnection, reload) gets the nickname back.
    token: sessionStorage.getItem('chat.token') || randomToken(),
    current: '#general',
    joined: new Set(['#general']),
    conversations: new Map(), // key ('#channel' or '@nickname') -> { items, ids, unread }
    users: [],
    channels: [], // [{ name, members }]
    typing: new Map(), // key -> Map(nickname -> timer)
    recentlyOnline: new Set(), // online before the connection was lost
    everConnected: false,
  };
  sessionStorage.setItem('chat.token', state.token);

  function randomToken() {
    const bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
  }

  // ---- the connection -------------------------------------------------------------------

  const socket = io({
    autoConnect: false,
    // Called at every (re)connection: after a server restart the tab says again who it is and
    // where it was.
    auth: (send) => send({ token: state.token, nickname: state.nickname, channels: [...state.joined] }),
  });
  // Handy in the browser console, and for the browser test.
  window.chat = { state, socket };

  socket.on('connect_error', (err) => {
    if (!socket.active) {
      // Refused by the server (its middleware): it will not retry by itself.
      showLogin(err.message);
    } else {
      showStatus("Can't reach the server, retrying…");
    }
  });

  socket.on('disconnect', (reason) => {
    clearAllTyping();
    stopTyping();
    // Who was online: their reconnections are no news.
    state.recentlyOnline = new Set(state.users);
    if (socket.active) {
      showStatus('Connection lost, reconnecting…');
      noticeEverywhere(`Connection lost (${reason}). Reconnecting…`, 'alert');
    } else {
      showStatus('Disconnected');
      noticeEverywhere('Disconnected by the server.', 'alert');
    }
  });

  socket.io.on('reconnect_attempt', (attempt) => {
    showStatus(`Connection lost, reconnecting… (attempt ${attempt})`);
  });

  socket.on('fatal', ({ error }) => showLogin(error));

  socket.on('welcome', (welcome) => {
    state.nickname = welcome.nickname;
    localStorage.setItem('chat.nickname', welcome.nickname);
    state.joined = new Set(Object.keys(welcome.history));
    for (const [key, messages] of Object.entries(welcome.history)) {
      for (const message of messages) addMessage(key, message, true);
    }
    if (state.current.startsWith('#') && !state.joined.has(state.current)) state.current = '#general';
    state.users = welcome.users;
    state.channels = welcome.channels;
    if (state.everConnected) {
      noticeEverywhere('Reconnected.');
      showStatus('Reconnected', 'ok', 3000);
    } else {
      hideStatus();
    }
    state.everConnected = true;
    $('login').hidden = true;
    $('app').hidden = false;
    $('me').textContent = state.nickname;
    render();
    $('text').focus();
  });

  socket.on('message', (message, ack) => {
    const key = keyOf(message);
    setTyping(key, message.from, false);
    addMessage(key, message, false);
    // Private messages ask for this: the sender's page then shows them as delivered.
    if (typeof ack === 'function') ack('ok');
  });

  socket.on('typing', ({ from, to, typing }) => {
    setTyping(to.startsWith('#') ? to : `@${from}`, from, typing);
  });

  socket.on('users', (users) => {
    state.users = users;
    renderSidebar();
    renderHeader();
  });

  socket.on('channels', (channels) => {
    state.channels = channels;
    renderSidebar();
    renderHeader();
  });

  socket.on('user joined', ({ nickname }) => {
    if (state.recentlyOnline.delete(nickname)) return;
    notice('#general', `${nickname} joined the chat`);
    if (state.conversations.has(`@${nickname}`)) notice(`@${nickname}`, `${nickname} is online`);
  });

  socket.on('user left', ({ nickname }) => {
    for (const key of state.typing.keys()) setTyping(key, nickname, false);
    notice('#general', `${nickname} left the chat`);
    if (state.conversations.has(`@${nickname}`)) notice(`@${nickname}`, `${nickname} went offline`);
  });

  socket.on('channel joined', ({ channel, nickname }) => notice(channel, `${nickname} joined ${channel}`));
  socket.on('channel left', ({ channel, nickname }) => {
    setTyping(channel, nickname, false);
    notice(channel, `${nickname} left ${channel}`);
  });

  // ---- conversations --------------------------------------------------------------------

  function keyOf(message) {
    if (message.to.startsWith('#')) return message.to;
    return message.from === state.nickname ? message.to : `@${message.from}`;
  }

  function conversation(key) {
    let conv = state.conversations.get(key);
    if (!conv) {
      conv = { items: [], ids: new Set(), unread: 0 };
      state.conversations.set(key, conv);
    }
    return conv;
  }

  function push(key, item) {
    const conv = conversation(key);
    conv.items.push(item);
    if (conv.items.length > KEPT_PER_CONVERSATION) {
      const dropped = conv.items.splice(0, conv.items.length - KEPT_PER_CONVERSATION);
      for (const old of dropped) if (old.id) conv.ids.delete(old.id);
    }
    return conv;
  }

  function addMessage(key, message, fromHistory) {
    const conv = conversation(key);
    if (conv.ids.has(message.id)) return; // history sent again after a reconnection
    conv.ids.add(message.id);
    push(key, { ...message });
    if (!fromHistory && (key !== state.current || document.hidden)) conv.unread += 1;
    refresh(key);
  }

  function notice(key, text, kind) {
    if (key.startsWith('#') && !state.joined.has(key)) return;
    push(key, { notice: text, kind, ts: Date.now() });
    refresh(key);
  }

  function noticeEverywhere(text, kind) {
    for (const key of state.conversations.keys()) notice(key, text, kind);
  }

  function refresh(key) {
    if (key === state.current) renderMessages();
    renderSidebar();
  }

  function send(text) {
    const to = state.current;
    const item = { id: null, from: state.nickname, to, text, ts: Date.now(), state: 'sending' };
    push(to, item);
    renderMessages();
    // Sent at once, or as soon as the connection is back (the client buffers it).
    socket.timeout(ACK_TIMEOUT_MS).emit('message', { to, text }, (err, answer) => {
      if (err) {
        item.state = 'failed';
        item.error = 'no answer from the server';
      } else if (answer.error) {
        item.state = 'failed';
        item.error = answer.error;
      } else {
        item.id = answer.id;
        item.ts = answer.ts;
        conversation(to).ids.add(answer.id);
        item.state = answer.delivered ? 'delivered' : 'sent';
      }
      refresh(to);
    });
  }

  function open(key) {
    stopTyping();
    state.current = key;
    conversation(key).unread = 0;
    render();
    $('text').focus();
  }

  function join(name) {
    socket.timeout(ACK_TIMEOUT_MS).emit('join', name, (err, answer) => {
      if (err || answer.error) {
        notice(state.current, `Could not join ${name}: ${err ? 'no answer' : answer.error}`, 'alert');
        return;
      }
      state.joined.add(answer.channel);
      for (const message of answer.history) addMessage(answer.channel, message, true);
      open(answer.channel);
    });
  }

  function leave(key) {
    socket.timeout(ACK_TIMEOUT_MS).emit('leave', key, (err, answer) => {
      if (err || answer.error) {
        notice(key, `Could not leave: ${err ? 'no answer' : answer.error}`, 'alert');
        return;
      }
      state.joined.delete(key);
      state.conversations.delete(key);
      state.typing.delete(key);
      open('#general');
    });
  }

  // ---- typing indicators ------------------------------------------------------------------

  let typingTo = null;
  let typingSentAt = 0;
  let typingTimer = null;

  function typed() {
    if (!$('text').value) return stopTyping();
    const now = Date.now();
    if (typingTo !== state.current || now - typingSentAt > TYPING_REFRESH_MS) {
      if (typingTo && typingTo !== state.current) stopTyping();
      typingTo = state.current;
      typingSentAt = now;
      // Volatile: not worth buffering while offline.
      socket.volatile.emit('typing', { to: typingTo, typing: true });
    }
    clearTimeout(typingTimer);
    typingTimer = setTimeout(stopTyping, TYPING_IDLE_MS);
  }

  function stopTyping() {
    clearTimeout(typingTimer);
    if (typingTo) socket.volatile.emit('typing', { to: typingTo, typing: false });
    typingTo = null;
    typingSentAt = 0;
  }

  function setTyping(key, nickname, typing) {
    let who = state.typing.get(key);
    if (!who) {
      if (!typing) return;
      who = new Map();
      state.typing.set(key, who);
    }
    clearTimeout(who.get(nickname));
    if (typing) {
      who.set(nickname, setTimeout(() => setTyping(key, nickname, false), TYPING_SHOWN_MS));
    } else {
      who.delete(nickname);
    }
    if (key === state.current) renderTyping();
  }

  function clearAllTyping() {
    for (const who of state.typing.values()) for (const timer of who.values()) clearTimeout(timer);
    state.typing.clear();
    renderTyping();
  }

  // ---- rendering ------------------------------------------------------------------------

  function el(tag, props = {}, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(props)) {
      if (name === 'class') node.className = value;
      else if (name.startsWith('data-')) node.setAttribute(name, value);
      else node[name] = value;
    }
    for (const child of children) if (child != null) node.append(child);
    return node;
  }

  function time(ts) {
    return new Date(ts).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
  }

  function render() {
    renderSidebar();
    renderHeader();
    renderMessages();
    renderTyping();
  }

  function badge(key) {
    const unread = state.conversations.get(key)?.unread || 0;
    return unread ? el('span', { class: 'badge' }, String(unread)) : null;
  }

  function renderSidebar() {
    const channels = new Map(state.channels.map((c) => [c.name, c.members.length]));
    for (const key of state.joined) if (!channels.has(key)) channels.set(key, 0);
    $('channels').replaceChildren(
      ...[...channels.keys()].sort().map((name) => {
        const joined = state.joined.has(name);
        const item = el(
          'li',
          {
            'data-channel': name,
            class: [name === state.current ? 'current' : '', joined ? '' : 'available'].join(' ').trim(),
            title: joined ? name : `join ${name}`,
          },
          el('span', {}, name),
          badge(name) || el('span', { class: 'count' }, String(channels.get(name))),
        );
        item.onclick = () => (joined ? open(name) : join(name));
        return item;
      }),
    );

    const directs = [...state.conversations.keys()].filter((k) => k.startsWith('@')).sort();
    $('directs').replaceChildren(
      ...directs.map((key) => {
        const online = state.users.includes(key.slice(1));
        const item = el(
          'li',
          { 'data-direct': key, class: [key === state.current ? 'current' : '', online ? '' : 'available'].join(' ').trim() },
          el('span', {}, key.slice(1)),
          badge(key),
        );
        item.onclick = () => open(key);
        return item;
      }),
    );

    $('online-count').textContent = `(${state.users.length})`;
    $('users').replaceChildren(
      ...state.users.map((nickname) => {
        const self = nickname === state.nickname;
        const item = el(
          'li',
          { 'data-user': nickname, class: self ? 'self' : '', title: self ? 'you' : `message ${nickname}` },
          el('span', {}, self ? `${nickname} (you)` : nickname),
        );
        if (!self) item.onclick = () => open(`@${nickname}`);
        return item;
      }),
    );

    const unread = [...state.conversations.values()].reduce((sum, c) => sum + c.unread, 0);
    document.title = `${unread ? `(${unread}) ` : ''}Chat · Socket.IO for Rust`;
  }

  function renderHeader() {
    const key = state.current;
    $('conversation-title').textContent = key;
    if (key.startsWith('#')) {
      const members = state.channels.find((c) => c.name === key)?.members || [];
      $('conversation-members').textContent = `${members.length} here: ${members.join(', ')}`;
    } else {
      $('conversation-members').textContent = state.users.includes(key.slice(1)) ? 'online' : 'offline';
    }
    $('leave').hidden = !(key.startsWith('#') && key !== '#general');
  }

  function renderMessages() {
    const list = $('messages');
    const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
    const conv = conversation(state.current);
    conv.unread = 0;
    list.replaceChildren(
      ...conv.items.map((item) => {
        if (item.notice) {
          return el('li', { class: `notice ${item.kind || ''}`.trim() }, `${item.notice}`, el('span', { class: 'time' }, ` ${time(item.ts)}`));
        }
        const mine = item.from === state.nickname;
        let status = null;
        if (mine && item.state) {
          const label = {
            sending: '… sending',
            sent: '✓ sent',
            delivered: '✓ delivered',
            failed: `✗ ${item.error}`,
          }[item.state];
          status = el('span', { class: `state ${item.state}` }, label);
        }
        return el(
          'li',
          { class: mine ? 'msg mine' : 'msg', 'data-id': item.id || '' },
          el('span', { class: 'from' }, item.from),
          el('span', { class: 'text' }, item.text),
          el('span', { class: 'time' }, time(item.ts)),
          status,
        );
      }),
    );
    if (atBottom) list.scrollTop = list.scrollHeight;
    renderSidebar();
  }

  function renderTyping() {
    const who = [...(state.typing.get(state.current)?.keys() || [])];
    let text = '';
    if (who.length === 1) text = `${who[0]} is typing…`;
    else if (who.length === 2) text = `${who[0]} and ${who[1]} are typing…`;
    else if (who.length > 2) text = 'Several people are typing…';
    $('typing').textContent = text;
  }

  let statusTimer = null;
  function showStatus(text, kind, hideAfter) {
    clearTimeout(statusTimer);
    $('status').textContent = text;
    $('status').className = kind || '';
    $('status').hidden = false;
    if (hideAfter) statusTimer = setTimeout(hideStatus, hideAfter);
  }

  function hideStatus() {
    clearTimeout(statusTimer);
    $('status').hidden = true;
  }

  function showLogin(error) {
    hideStatus();
    $('app').hidden = true;
    $('login').hidden = false;
    $('login-error').textContent = error || '';
    $('nickname').focus();
  }

  // ---- the forms ------------------------------------------------------------------------

  $('nickname').value = localStorage.getItem('chat.nickname') || '';

  $('login').addEventListener('submit', (event) => {
    event.preventDefault();
    state.nickname = $('nickname').value.trim();
    $('login-error').textContent = 'Connecting…';
    socket.disconnect().connect();
  });

  $('composer').addEventListener('submit', (event) => {
    event.preventDefault();
    const text = $('text').value;
    if (!text.trim()) return;
    $('text').value = '';
    stopTyping();
    send(text);
  });

  $('text').addEventListener('input', typed);

  $('join-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const name = $('join-name').value.trim();
    if (!name) return;
    $('join-name').value = '';
    join(name.startsWith('#') ? name : `#${name}`);
  });

  $('leave').addEventListener('click', () => leave(state.current));

  document.addEventListener('visibilitychange', () => {
    if (!document.hidden) {
      conversation(state.current).unread = 0;
      renderSidebar();
    }
  });
})();
