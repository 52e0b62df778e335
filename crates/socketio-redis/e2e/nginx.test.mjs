// The mixed cluster behind nginx (Debian's package) with sticky sessions: long-polling clients
// (whose every request must reach the server that holds their session) from several loopback
// addresses, spread over our two nodes and Node's by `hash $remote_addr`, all talking to each
// other through Redis.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, writeFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Agent } from "node:http";
import { REDIS_URL, call, children, client, cluster, got, stop, waitFor } from "./lib.mjs";

// Fixed ports stay below 32768: above, the kernel hands them out as client ports.
const NGINX_PORT = 26080;

function nginxBinary() {
  for (const candidate of ["/usr/sbin/nginx", "nginx"]) {
    try {
      execFileSync(candidate, ["-v"], { stdio: "ignore" });
      return candidate;
    } catch {}
  }
  return null;
}

test("behind nginx with sticky sessions: polling clients on every node, one cluster", async (t) => {
  const nginx = nginxBinary();
  assert.ok(nginx, "nginx is needed (Debian package nginx; scripts/test-all installs it)");
  const key = `nginx-${randomBytes(4).toString("hex")}`;
  const { servers, clients: direct } = await cluster(REDIS_URL, key);
  const dir = mkdtempSync(join(tmpdir(), "socketio-nginx-"));
  for (const sub of ["body", "proxy", "fastcgi", "uwsgi", "scgi"]) mkdirSync(join(dir, sub));
  writeFileSync(join(dir, "nginx.conf"), `
worker_processes 1;
error_log stderr warn;
pid ${dir}/nginx.pid;
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  upstream cluster {
    # Sticky by client address (ip_hash would only look at 127.0.0.x's first three bytes).
    hash $remote_addr consistent;
${servers.map((s) => `    server 127.0.0.1:${s.port};`).join("\n")}
  }
  server {
    listen 127.0.0.1:${NGINX_PORT};
    location /socket.io/ {
      proxy_pass http://cluster;
      proxy_http_version 1.1;
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection "upgrade";
      proxy_set_header Host $host;
    }
  }
}
`);
  // One process (no master/worker pair): killing it leaves no worker behind.
  const proxy = spawn(nginx, ["-p", dir, "-c", join(dir, "nginx.conf"), "-g", "daemon off; master_process off;"]);
  children.add(proxy);
  proxy.stderr.on("data", (d) => process.stderr.write(`[nginx] ${d}`));
  const clients = [];
  t.after(() => {
    for (const c of [...clients, ...direct]) c.close();
    proxy.kill("SIGKILL");
    for (const s of servers) stop(s);
  });
  const front = { port: NGINX_PORT };
  await waitFor("nginx", async () => {
    const probe = await fetch(`http://127.0.0.1:${NGINX_PORT}/socket.io/?EIO=4&transport=polling`);
    return probe.status === 200;
  });

  // Twelve clients, each from its own loopback address, long-polling only.
  for (let i = 0; i < 12; i++) {
    const agent = new Agent({ localAddress: `127.0.0.${10 + i}`, keepAlive: true });
    clients.push(await client(front, `p${i}`, { transports: ["polling"], agent }));
  }
  const homes = new Map();
  for (const c of clients) {
    const home = await call(c, "whoami");
    homes.set(home, (homes.get(home) ?? 0) + 1);
  }
  assert.ok(homes.size >= 2, `the clients spread over several nodes: ${JSON.stringify([...homes])}`);

  // Every polling session keeps working across many requests (each one reached its node).
  for (const [i, c] of clients.entries()) {
    await call(c, "broadcast", { data: `via nginx ${i}` });
  }
  for (const [i] of clients.entries()) {
    for (const c of [...clients, ...direct]) await got(c, `via nginx ${i}`);
  }
  const everyone = await call(clients[0], "fetch", {});
  assert.equal(everyone.length, clients.length + direct.length);
  for (const c of clients) assert.ok(c.connected && c.io.engine.transport.name === "polling");
});
