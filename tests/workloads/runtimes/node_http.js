// node_http.js: what node programs commonly ask of the kernel, in sections that print only
// deterministic lines, so a native run and a sandboxed one must print the same bytes.
//
//     node node_http.js [SECTION...]    (no SECTION: all of them, in order)
//
// tests/workloads/runtimes.sh runs each section as a test of its own; the benchmarks run it whole.
'use strict';
const assert = require('assert');
const childProcess = require('child_process');
const crypto = require('crypto');
const fs = require('fs');
const http = require('http');
const net = require('net');
const os = require('os');
const path = require('path');
const zlib = require('zlib');
const { Worker } = require('worker_threads');

function get(agent, port, urlPath) {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: urlPath, agent }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(chunks),
                                    socket: req.reusedSocket }));
    });
    req.on('error', reject);
  });
}

function post(agent, port, body) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: '/echo', method: 'POST', agent,
                               headers: { 'content-length': body.length } }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve(Buffer.concat(chunks)));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const sections = {
  async http() {
    let connections = 0;
    const server = http.createServer((req, res) => {
      if (req.url === '/echo') {
        const chunks = [];
        req.on('data', (c) => chunks.push(c));
        req.on('end', () => res.end(crypto.createHash('sha256').update(Buffer.concat(chunks))
          .digest('hex')));
        return;
      }
      if (req.url === '/big') {
        res.end(Buffer.alloc(1 << 20, 'z'));
        return;
      }
      if (req.url === '/missing') {
        res.statusCode = 404;
        res.end('no');
        return;
      }
      res.setHeader('content-type', 'text/plain');
      res.end(`hello ${req.url}`);
    });
    server.on('connection', () => connections++);
    await new Promise((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address();
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const results = [];
    for (let i = 0; i < 5; i++) {
      const r = await get(agent, port, `/r${i}`);
      results.push(`${r.status} ${r.body} reused=${r.socket}`);
    }
    console.log('keep-alive:', results.join('; '));
    const big = await get(agent, port, '/big');
    console.log('big body:', big.body.length, big.body.every((b) => b === 0x7a));
    console.log('404:', (await get(agent, port, '/missing')).status);
    const payload = Buffer.alloc(300000, 'p');
    const want = crypto.createHash('sha256').update(payload).digest('hex');
    console.log('POST 300000 bytes:', (await post(agent, port, payload)).toString() === want);
    console.log('connections (keep-alive):', connections);
    agent.destroy();
    const parallel = new http.Agent({ keepAlive: false });
    const many = await Promise.all([...Array(8).keys()].map((i) => get(parallel, port, `/p${i}`)));
    console.log('parallel:', many.map((r) => r.body.toString()).join(','));
    console.log('connections (total):', connections);
    await new Promise((r) => server.close(r));
  },

  async net() {
    const server = net.createServer((s) => s.pipe(s));
    await new Promise((r) => server.listen(0, '127.0.0.1', r));
    const c = net.connect(server.address().port, '127.0.0.1');
    const got = [];
    c.on('data', (d) => got.push(d));
    c.end(Buffer.alloc(200000, 'n'));
    await new Promise((r) => c.on('close', r));
    console.log('tcp echo:', Buffer.concat(got).length);
    await new Promise((r) => server.close(r));
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'node-'));
    const sock = path.join(dir, 's');
    const userver = net.createServer((s) => s.end('over unix'));
    await new Promise((r) => userver.listen(sock, r));
    const u = net.connect(sock);
    const ugot = [];
    u.on('data', (d) => ugot.push(d));
    await new Promise((r) => u.on('end', r));
    console.log('unix socket:', Buffer.concat(ugot).toString());
    await new Promise((r) => userver.close(r));
    fs.rmSync(dir, { recursive: true });
  },

  async fs() {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'node-'));
    const f = path.join(dir, 'a.txt');
    fs.writeFileSync(f, 'line\n'.repeat(1000));
    fs.appendFileSync(f, 'tail\n');
    console.log('sync read:', fs.readFileSync(f, 'utf8').length, fs.statSync(f).size);
    await fs.promises.writeFile(path.join(dir, 'b.json'), JSON.stringify({ a: [1, 2, 3] }));
    console.log('promises read:', JSON.parse(await fs.promises.readFile(path.join(dir, 'b.json'))));
    fs.mkdirSync(path.join(dir, 'x/y/z'), { recursive: true });
    fs.renameSync(f, path.join(dir, 'x/y/z/moved.txt'));
    fs.symlinkSync('x/y/z/moved.txt', path.join(dir, 'link'));
    console.log('readdir:', fs.readdirSync(dir).sort(), fs.readlinkSync(path.join(dir, 'link')));
    console.log('realpath:', path.relative(fs.realpathSync(dir), fs.realpathSync(path.join(dir, 'link'))));
    fs.copyFileSync(path.join(dir, 'link'), path.join(dir, 'copy.txt'));
    console.log('copyFile:', fs.statSync(path.join(dir, 'copy.txt')).size);
    const fd = fs.openSync(path.join(dir, 'rw'), 'w+');
    fs.writeSync(fd, Buffer.from('0123456789'), 0, 10, 0);
    const b = Buffer.alloc(4);
    fs.readSync(fd, b, 0, 4, 3);
    fs.ftruncateSync(fd, 5);
    console.log('pread/ftruncate:', b.toString(), fs.fstatSync(fd).size);
    fs.closeSync(fd);
    const s = fs.createReadStream(path.join(dir, 'copy.txt'), { highWaterMark: 1024 });
    let n = 0;
    for await (const chunk of s) n += chunk.length;
    console.log('stream:', n);
    const gz = zlib.gzipSync(fs.readFileSync(path.join(dir, 'copy.txt')));
    console.log('zlib:', zlib.gunzipSync(gz).length);
    let entries = 0;
    for (const e of fs.readdirSync(path.join(__dirname, '..'), { recursive: true })) {
      if (e) entries++;
    }
    console.log('recursive readdir > 1:', entries > 1);
    const w = fs.watch(dir);
    w.close();
    fs.chmodSync(path.join(dir, 'copy.txt'), 0o600);
    console.log('chmod:', (fs.statSync(path.join(dir, 'copy.txt')).mode & 0o777).toString(8));
    fs.rmSync(dir, { recursive: true });
    console.log('rm:', fs.existsSync(dir));
  },

  async child_process() {
    console.log('execFileSync:', childProcess.execFileSync('/bin/echo', ['a', 'b']).toString().trim());
    console.log('execSync pipeline:',
      childProcess.execSync("seq 1 100 | sort -rn | head -n 2 | tr '\\n' ' '").toString());
    try {
      childProcess.execFileSync('/bin/sh', ['-c', 'exit 5'], { stdio: 'ignore' });
    } catch (e) {
      console.log('exit status:', e.status);
    }
    const r = childProcess.spawnSync('/bin/cat', { input: 'x'.repeat(100000) });
    console.log('spawnSync stdin:', r.stdout.length, r.status);
    const out = await new Promise((resolve) => {
      const p = childProcess.spawn('/bin/sh', ['-c', 'read l; echo "got $l"; echo err >&2']);
      let o = '', e = '';
      p.stdout.on('data', (d) => { o += d; });
      p.stderr.on('data', (d) => { e += d; });
      p.on('close', (code) => resolve(`${o.trim()} / ${e.trim()} / ${code}`));
      p.stdin.end('line\n');
    });
    console.log('spawn:', out);
    const sig = await new Promise((resolve) => {
      const p = childProcess.spawn('/bin/sleep', ['10']);
      p.on('exit', (code, signal) => resolve(signal));
      setTimeout(() => p.kill('SIGTERM'), 20);
    });
    console.log('kill:', sig);
    const fork = await new Promise((resolve) => {
      const p = childProcess.fork(__filename, ['child'], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
      p.on('message', (m) => { p.send({ reply: m.hello * 2 }); });
      p.on('exit', (code) => resolve(code));
    });
    console.log('fork+ipc exit:', fork);
  },

  async worker_threads() {
    const src = `
      const { parentPort, workerData } = require('worker_threads');
      let s = 0;
      for (let i = 0; i < workerData; i++) s += i;
      parentPort.postMessage(s);`;
    const results = await Promise.all([1000, 2000, 3000].map((n) => new Promise((resolve, reject) => {
      const w = new Worker(src, { eval: true, workerData: n });
      w.on('message', resolve);
      w.on('error', reject);
    })));
    console.log('workers:', results);
    const sab = new SharedArrayBuffer(8);
    const ia = new Int32Array(sab);
    const w = new Worker(`
      const { workerData } = require('worker_threads');
      const ia = new Int32Array(workerData);
      Atomics.store(ia, 0, 42);
      Atomics.notify(ia, 0);`, { eval: true, workerData: sab });
    const r = Atomics.wait(ia, 0, 0, 5000);
    await new Promise((res) => w.on('exit', res));
    console.log('Atomics.wait:', r === 'ok' || r === 'not-equal', Atomics.load(ia, 0));
  },

  async timers() {
    const order = [];
    await new Promise((resolve) => {
      setTimeout(() => order.push('timeout30'), 30);
      setTimeout(() => order.push('timeout10'), 10);
      setImmediate(() => order.push('immediate'));
      process.nextTick(() => order.push('nextTick'));
      Promise.resolve().then(() => order.push('microtask'));
      // Done when the interval has fired 3 times and 80 ms have passed: on a loaded machine a
      // late loop turn runs the 80 ms timer before the interval's later ticks.
      let n = 0, late = false;
      const iv = setInterval(() => {
        if (++n === 3) {
          clearInterval(iv);
          order.push('interval x3');
          if (late) resolve();
        }
      }, 5);
      setTimeout(() => { late = true; if (n >= 3) resolve(); }, 80);
    });
    // nextTick and promise callbacks run before any timer or immediate; which of the rest come
    // first depends on how long the setup took (a 10 ms timer may be due at the first turn).
    console.log('order:', order.slice(0, 2).sort().join(','), '|', order.slice(2).sort().join(','));
    const t0 = process.hrtime.bigint();
    await new Promise((r) => setTimeout(r, 20));
    // libuv's loop time has millisecond granularity: a timer may fire up to 1 ms early.
    console.log('hrtime >= 18ms:', process.hrtime.bigint() - t0 >= 18000000n);
    console.log('Date sane:', Date.now() > 1.6e12, performance.now() > 0);
  },

  async misc() {
    console.log('os:', os.platform(), os.arch(), os.cpus().length >= 1, os.totalmem() > 0);
    console.log('endianness:', os.endianness(), os.EOL === '\n');
    console.log('randomBytes:', crypto.randomBytes(32).length, crypto.randomUUID().length);
    console.log('pbkdf2:', crypto.pbkdf2Sync('pw', 'salt', 1000, 16, 'sha256').toString('hex'));
    console.log('scrypt:', (await new Promise((r, j) => crypto.scrypt('pw', 'salt', 16,
      (e, k) => (e ? j(e) : r(k))))).toString('hex'));
    console.log('dns lookup localhost:', await new Promise((r) => require('dns').lookup('127.0.0.1',
      (e, a) => r(e ? e.code : a))));
    console.log('resourceUsage:', process.resourceUsage().maxRSS > 0);
    console.log('memoryUsage:', process.memoryUsage().rss > 0);
    console.log('uptime:', process.uptime() > 0, os.uptime() > 0);
    assert.strictEqual(1 + 1, 2);
    console.log('env HOME:', process.env.HOME);
  },
};

async function main() {
  if (process.argv[2] === 'child') {
    process.on('message', (m) => {
      process.exitCode = m.reply === 42 ? 0 : 1;
      process.disconnect();
    });
    process.send({ hello: 21 });
    return;
  }
  const names = process.argv.length > 2 ? process.argv.slice(2) : Object.keys(sections);
  for (const name of names) {
    console.log('==', name);
    await sections[name]();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
