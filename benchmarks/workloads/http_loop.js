// http_loop.js: the node workload of benchmarks/run.sh: an http server on 127.0.0.1 (a port the
// kernel picks) and a client in the same process making 200 sequential GET requests over one
// keep-alive connection, then 20 more each on a new connection. Prints a summary line; exits 0.
"use strict";
const http = require("http");

const server = http.createServer((req, res) => {
	const body = `hello ${req.url}\n`;
	res.writeHead(200, { "Content-Type": "text/plain", "Content-Length": Buffer.byteLength(body) });
	res.end(body);
});

function get(agent, path) {
	return new Promise((resolve, reject) => {
		const { port } = server.address();
		http.get({ host: "127.0.0.1", port, path, agent }, (res) => {
			let n = 0;
			res.on("data", (chunk) => { n += chunk.length; });
			res.on("end", () => resolve(n));
		}).on("error", reject);
	});
}

server.listen(0, "127.0.0.1", async () => {
	const keepAlive = new http.Agent({ keepAlive: true, maxSockets: 1 });
	let bytes = 0;
	for (let i = 0; i < 200; i++) bytes += await get(keepAlive, `/k${i}`);
	keepAlive.destroy();
	for (let i = 0; i < 20; i++) bytes += await get(false, `/n${i}`);
	console.log(`requests=220 bytes=${bytes}`);
	server.close();
});
