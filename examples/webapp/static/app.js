// The web app's page: two RTCPeerConnections in this page call each other
// through the TURN relay only, with credentials from POST /api/ice.
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);

  // fetchIce asks this app's backend for an RTCConfiguration's iceServers,
  // with only the TURN URLs of one transport.
  async function fetchIce(transport) {
    const res = await fetch("/api/ice", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ transport }),
    });
    const body = await res.json();
    if (!res.ok) {
      throw new Error(`POST /api/ice: ${res.status}: ${body.detail}`);
    }
    return body;
  }

  // within rejects when promise does not settle within ms.
  function within(promise, ms, what) {
    let timer;
    const timeout = new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
    });
    return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
  }

  // selectedPair reads the candidate pair a connection selected, and its
  // two candidates, from getStats.
  async function selectedPair(pc) {
    const report = await pc.getStats();
    let pair;
    report.forEach((s) => {
      if (s.type === "transport" && s.selectedCandidatePairId) {
        pair = report.get(s.selectedCandidatePairId);
      }
    });
    if (!pair) {
      report.forEach((s) => {
        if (s.type === "candidate-pair" && s.nominated && s.state === "succeeded") pair = s;
      });
    }
    if (!pair) throw new Error("no selected candidate pair in getStats");
    const cand = (c) => c && {
      type: c.candidateType, protocol: c.protocol, relayProtocol: c.relayProtocol || "",
      address: c.address, port: c.port,
    };
    return {
      local: cand(report.get(pair.localCandidateId)),
      remote: cand(report.get(pair.remoteCandidateId)),
      currentRoundTripTime: pair.currentRoundTripTime ?? null,
      bytesSent: pair.bytesSent ?? 0,
      bytesReceived: pair.bytesReceived ?? 0,
    };
  }

  function median(xs) {
    const s = [...xs].sort((x, y) => x - y);
    const m = s.length >> 1;
    return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
  }

  // call connects two peer connections through the relay, sends messages
  // over a data channel, measures round trips and returns what it saw.
  async function call({ transport = "udp", messages = 50, size = 64, pings = 5, timeoutMs = 20000 } = {}) {
    const ice = await fetchIce(transport);
    const config = { iceServers: ice.iceServers, iceTransportPolicy: "relay" };
    const a = new RTCPeerConnection(config);
    const b = new RTCPeerConnection(config);
    const t0 = performance.now();
    const firstCandidate = {};
    const candidates = { a: [], b: [] };
    // Candidates trickle to the other side; those that arrive before its
    // remote description wait for it.
    const pending = new Map([[a, []], [b, []]]);
    const add = (to, c) => to.addIceCandidate(c).catch((err) => console.error(`addIceCandidate: ${err}`));
    const trickle = (name, from, to) => {
      from.addEventListener("icecandidate", (e) => {
        if (!e.candidate) return;
        firstCandidate[name] ??= performance.now() - t0;
        candidates[name].push(e.candidate.candidate);
        if (to.remoteDescription) add(to, e.candidate);
        else pending.get(to).push(e.candidate);
      });
    };
    const setRemote = async (pc, desc) => {
      await pc.setRemoteDescription(desc);
      for (const c of pending.get(pc).splice(0)) add(pc, c);
    };
    try {
      trickle("a", a, b);
      trickle("b", b, a);
      const incoming = new Promise((resolve) => b.addEventListener("datachannel", (e) => resolve(e.channel)));
      const dc = a.createDataChannel("demo", { ordered: true });
      const opened = new Promise((resolve, reject) => {
        dc.addEventListener("open", resolve);
        dc.addEventListener("error", (e) => reject(new Error(`data channel: ${e.error?.message}`)));
      });
      const offerAt = performance.now();
      const offer = await a.createOffer();
      await a.setLocalDescription(offer);
      await setRemote(b, offer);
      await b.setLocalDescription(await b.createAnswer());
      await setRemote(a, b.localDescription);
      await within(opened, timeoutMs, "the data channel to open");
      const openMs = performance.now() - offerAt;
      const ch = await within(incoming, timeoutMs, "the data channel on the answering side");

      // The answering side collects the data messages and echoes pings.
      const received = [];
      const allReceived = new Promise((resolve) => {
        ch.addEventListener("message", (e) => {
          const m = JSON.parse(e.data);
          if (m.kind === "ping") {
            ch.send(JSON.stringify({ kind: "pong", seq: m.seq }));
            return;
          }
          received.push(m.seq);
          if (received.length === messages) resolve();
        });
      });
      const pad = "x".repeat(size);
      for (let i = 0; i < messages; i++) {
        dc.send(JSON.stringify({ kind: "data", seq: i, pad }));
      }
      await within(allReceived, timeoutMs, `${messages} messages`);
      const inOrder = received.every((seq, i) => seq === i);

      const rtts = [];
      for (let i = 0; i < pings; i++) {
        const pong = new Promise((resolve) => dc.addEventListener("message", resolve, { once: true }));
        const sent = performance.now();
        dc.send(JSON.stringify({ kind: "ping", seq: i }));
        await within(pong, timeoutMs, `pong ${i}`);
        rtts.push(performance.now() - sent);
      }

      const pairA = await selectedPair(a);
      const pairB = await selectedPair(b);
      const meter = await (await fetch("/api/relay")).json();
      return {
        ok: true, transport, openMs, firstCandidateMs: firstCandidate, candidates,
        sent: messages, received: received.length, inOrder,
        pingRttMs: median(rtts), pingRtts: rtts,
        pair: pairA, answererPair: pairB, relay: meter,
      };
    } finally {
      a.close();
      b.close();
    }
  }

  const ms = (x) => (x == null ? "–" : `${x.toFixed(1)} ms`);
  const cand = (c) => `${c.type} ${c.protocol}${c.relayProtocol ? ` (to the relay over ${c.relayProtocol})` : ""} ${c.address}:${c.port}`;

  function render(r) {
    $("r-open").textContent = ms(r.openMs);
    $("r-gather").textContent = `${ms(r.firstCandidateMs.a)} / ${ms(r.firstCandidateMs.b)}`;
    $("r-delivered").textContent = `${r.received} of ${r.sent}, ${r.inOrder ? "in order" : "OUT OF ORDER"}`;
    $("r-local").textContent = cand(r.pair.local);
    $("r-remote").textContent = cand(r.pair.remote);
    $("r-rtt-stats").textContent = r.pair.currentRoundTripTime == null ? "–" : ms(r.pair.currentRoundTripTime * 1000);
    $("r-rtt-ping").textContent = ms(r.pingRttMs);
    $("r-bytes").textContent = `${r.pair.bytesSent} / ${r.pair.bytesReceived}`;
    $("r-relay").textContent = r.relay.inProcess
      ? `${r.relay.relayedBytes} (${r.relay.allocations} live allocations, ${r.relay.peerRefused} refused)`
      : "relay not in this process";
  }

  function setStatus(text, cls) {
    const s = $("status");
    s.textContent = text;
    s.className = cls || "";
  }

  // run is the Call button: it never rejects; failures are shown and
  // logged, and the result says ok: false.
  async function run() {
    const button = $("call");
    button.disabled = true;
    setStatus("calling…");
    try {
      const r = await call({ transport: $("transport").value, messages: Math.min(1000, Math.max(1, Number($("messages").value) || 50)) });
      render(r);
      setStatus(`connected over ${r.transport.toUpperCase()} through the relay`, "ok");
      return r;
    } catch (err) {
      console.error(`call failed: ${err.message}`);
      setStatus(`failed: ${err.message}`, "failed");
      return { ok: false, error: err.message };
    } finally {
      button.disabled = false;
    }
  }

  $("form").addEventListener("submit", (e) => {
    e.preventDefault();
    window.lastCall = run();
  });
  window.turnkitDemo = { call, run };
})();
