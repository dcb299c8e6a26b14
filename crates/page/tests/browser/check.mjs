// Opens a twinnet page in headless Chromium through the DevTools protocol (no dependencies:
// Node's own WebSocket and http) and reports, as one JSON line on stdout, what a person would
// see: console errors and exceptions, every network request, the run names in the DOM, whether
// a legend click hides its series, the value hovering shows, and a screenshot.
//
//   node --experimental-websocket check.mjs CHROMIUM PAGE.html SCREENSHOT.png
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync, existsSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import http from "node:http";

const [chromium, page, shot] = process.argv.slice(2);
const profile = mkdtempSync(join(tmpdir(), "twinnet-chromium-"));
const browser = spawn(chromium, [
  "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
  "--disable-background-networking", "--disable-component-update", "--disable-sync",
  "--disable-default-apps", "--remote-debugging-port=0", `--user-data-dir=${profile}`,
  "--window-size=1400,1600", "about:blank",
], { stdio: ["ignore", "ignore", "pipe"] });
const fail = (msg) => { console.log(JSON.stringify({ error: msg })); cleanup(1); };
function cleanup(code) {
  try { browser.kill("SIGKILL"); } catch (_) {}
  try { rmSync(profile, { recursive: true, force: true }); } catch (_) {}
  process.exit(code);
}
setTimeout(() => fail("timed out"), 60000).unref();

// The DevTools endpoint: Chromium writes its port to DevToolsActivePort in the profile.
async function endpoint() {
  const file = join(profile, "DevToolsActivePort");
  for (let i = 0; i < 300 && !existsSync(file); i++) await new Promise((r) => setTimeout(r, 50));
  const port = readFileSync(file, "utf8").split("\n")[0];
  const list = await new Promise((res, rej) => http.get(`http://127.0.0.1:${port}/json/list`, (r) => {
    let b = ""; r.on("data", (c) => (b += c)); r.on("end", () => res(JSON.parse(b)));
  }).on("error", rej));
  return list.find((t) => t.type === "page").webSocketDebuggerUrl;
}

const ws = new WebSocket(await endpoint());
await new Promise((r) => ws.addEventListener("open", r));
let id = 0;
const pending = new Map();
const events = [];
ws.addEventListener("message", (m) => {
  const msg = JSON.parse(m.data);
  if (msg.id && pending.has(msg.id)) { pending.get(msg.id)(msg); pending.delete(msg.id); }
  else if (msg.method) events.push(msg);
});
const send = (method, params = {}) => new Promise((res) => {
  const n = ++id; pending.set(n, res); ws.send(JSON.stringify({ id: n, method, params }));
});
const evaluate = async (expr) => {
  const r = await send("Runtime.evaluate", { expression: expr, returnByValue: true, awaitPromise: true });
  if (r.result.exceptionDetails) throw new Error(JSON.stringify(r.result.exceptionDetails));
  return r.result.result.value;
};

await send("Network.enable");
await send("Runtime.enable");
await send("Log.enable");
await send("Page.enable");
await send("Emulation.setDeviceMetricsOverride", { width: 1400, height: 1600, deviceScaleFactor: 1, mobile: false });
await send("Page.navigate", { url: "file://" + page });
for (let i = 0; i < 200 && !events.some((e) => e.method === "Page.loadEventFired"); i++) {
  await new Promise((r) => setTimeout(r, 50));
}
await new Promise((r) => setTimeout(r, 500));

const report = {};
report.names = await evaluate(`(window.twinnet ? (window.twinnet.data.runs || []).map(r => r.name) : null)`);
report.text = await evaluate(`document.body.innerText.length`);
report.charts = await evaluate(`window.twinnet ? window.twinnet.charts.length : 0`);
report.domNames = await evaluate(`Array.from(document.querySelectorAll(".u-legend .u-series .u-label")).map(e => e.textContent)`);
// Toggle: click the legend entry of the first run of the first chart; it must hide its series.
report.toggle = await evaluate(`(() => {
  const u = window.twinnet.charts[0];
  if (!u) return null;
  const before = u.series[1].show;
  // uPlot listens on the entry's label cell.
  const row = u.root.querySelectorAll(".u-legend .u-series")[1];
  const entry = row.querySelector("th") || row;
  entry.dispatchEvent(new MouseEvent("click", { bubbles: true }));
  const after = u.series[1].show;
  entry.dispatchEvent(new MouseEvent("click", { bubbles: true }));
  return { before, after, restored: u.series[1].show };
})()`);
// Hover: move the mouse over the middle of the first chart; the legend then shows values.
const box = await evaluate(`(() => { const o = window.twinnet.charts[0].over.getBoundingClientRect();
  return { x: o.left + o.width * 0.6, y: o.top + o.height * 0.5 }; })()`);
await send("Input.dispatchMouseEvent", { type: "mouseMoved", x: box.x, y: box.y });
await new Promise((r) => setTimeout(r, 300));
report.hover = await evaluate(`Array.from(window.twinnet.charts[0].root.querySelectorAll(".u-legend .u-value")).map(e => e.textContent)`);
const png = await send("Page.captureScreenshot", { format: "png" });
writeFileSync(shot, Buffer.from(png.result.data, "base64"));

report.consoleErrors = events
  .filter((e) => (e.method === "Runtime.consoleAPICalled" && ["error", "assert"].includes(e.params.type))
    || e.method === "Runtime.exceptionThrown"
    || (e.method === "Log.entryAdded" && e.params.entry.level === "error"))
  .map((e) => JSON.stringify(e.params).slice(0, 300));
report.requests = events
  .filter((e) => e.method === "Network.requestWillBeSent")
  .map((e) => e.params.request.url)
  .filter((u) => u !== "file://" + page);
console.log(JSON.stringify(report));
ws.close();
cleanup(0);
