// The inclusion proof of one audit entry, checked in the browser against the latest signed checkpoint with
// WebCrypto SHA-256 (RFC 9162 §2.1.3.2), and the checkpoint's Ed25519 signature where the browser supports it.
"use strict";
(function () {
  const b64 = (s) => Uint8Array.from(atob(s.trim()), (c) => c.charCodeAt(0));
  const hex = (s) => Uint8Array.from(s.match(/../g) || [], (h) => parseInt(h, 16));
  const toHex = (b) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
  const concat = (...parts) => {
    const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let i = 0;
    for (const p of parts) { out.set(p, i); i += p.length; }
    return out;
  };
  const sha256 = async (bytes) => new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  const leafHash = (entry) => sha256(concat(new Uint8Array([0]), entry));
  const nodeHash = (l, r) => sha256(concat(new Uint8Array([1]), l, r));
  const equal = (a, b) => a.length === b.length && a.every((x, i) => x === b[i]);

  // RFC 9162 §2.1.3.2, step by step.
  async function verifyInclusion(leaf, index, size, proof, root) {
    if (index >= size) return false;
    let fn = index, sn = size - 1, r = leaf;
    for (const p of proof) {
      if (sn === 0) return false;
      if (fn % 2 === 1 || fn === sn) {
        r = await nodeHash(p, r);
        if (fn % 2 === 0) { while (fn % 2 === 0 && fn !== 0) { fn = Math.floor(fn / 2); sn = Math.floor(sn / 2); } }
      } else {
        r = await nodeHash(r, p);
      }
      fn = Math.floor(fn / 2); sn = Math.floor(sn / 2);
    }
    return sn === 0 && equal(r, root);
  }

  // An entry commits to its network address by a salted digest (docs/audit-log.md, "Network addresses"):
  // SHA-256 of the canonical JSON {"ip": address, "salt": salt}. Only a monitor's page is given the address.
  const addressDigest = async (ip, salt) =>
    toHex(await sha256(new TextEncoder().encode(JSON.stringify({ ip: ip, salt: salt }))));

  globalThis.etenderAudit = { b64, hex, toHex, leafHash, nodeHash, verifyInclusion, addressDigest };
  if (typeof document === "undefined") return;  // loaded by the tests under Node: the functions only

  const box = document.getElementById("proof");
  if (!box) return;
  const status = document.getElementById("proof-status");
  const sigStatus = document.getElementById("sig-status");
  const detail = document.getElementById("proof-detail");
  const t = (name, params) => (box.dataset["t" + name] || "").replace(/\{(\w+)\}/g, (_, k) => String((params || {})[k]));

  // C2SP signed note: "<text>\n\n— <name> <base64(key id || signature)>\n"
  async function checkSignature(note) {
    const at = note.lastIndexOf("\n\n");
    const text = new TextEncoder().encode(note.slice(0, at + 1));
    const keyInfo = await (await fetch("/api/v1/audit/key")).json();
    let importedAny = false;
    for (const line of note.slice(at + 2).split("\n").filter(Boolean)) {
      const raw = b64(line.slice(2).split(" ")[1] || "");
      for (const k of keyInfo.keys) {
        if (toHex(raw.slice(0, 4)) !== k.key_id) continue;
        let key;
        try { key = await crypto.subtle.importKey("raw", b64(k.public_key), { name: "Ed25519" }, false, ["verify"]); }
        catch (e) { continue; }
        importedAny = true;
        if (await crypto.subtle.verify({ name: "Ed25519" }, key, raw.slice(4), text)) return ["ok", k.verifier_key];
      }
    }
    return [importedAny ? "bad" : "na", ""];
  }

  // A new entry is in the log before the next signed checkpoint covers it (one is signed every few seconds while
  // the log grows): wait for it, asking again every 2 s for up to 2 minutes.
  let waits = 0;

  async function run() {
    try {
      const index = Number(box.dataset.index);
      const note = await (await fetch("/api/v1/audit/checkpoint")).text();
      const lines = note.split("\n");
      const size = Number(lines[1]);
      const root = b64(lines[2]);
      if (index >= size) {
        status.textContent = t("Pending");
        if (waits++ < 60) setTimeout(run, 2000);
        return;
      }
      const proof = await (await fetch(`/api/v1/audit/proof/inclusion?index=${index}&tree_size=${size}`)).json();
      // A withheld entry's bytes are not public until its disclosure time: the proof checks its leaf hash.
      const withheld = box.dataset.withheld === "yes";
      const leaf = withheld ? hex(box.dataset.leaf) : await leafHash(b64(box.dataset.entry));
      const ok = await verifyInclusion(leaf, index, size, proof.hashes.map(hex), root);
      status.textContent = ok ? (withheld ? t("Withheld") + " " : "") + t("Ok", { index, size }) : t("Bad");
      status.className = ok ? "verified ok" : "verified bad";
      box.dataset.verified = ok ? "yes" : "no";
      detail.textContent = note + "\n" + JSON.stringify(proof, null, 1);
      const ip = box.dataset.addressIp, salt = box.dataset.addressSalt;
      if (ok && !withheld && salt) {
        const committed = JSON.parse(new TextDecoder().decode(b64(box.dataset.entry))).address_digest;
        const same = (await addressDigest(ip || "", salt)) === committed;
        status.textContent += " " + (same ? t("AddressOk") : t("AddressBad"));
        box.dataset.address = same ? "yes" : "no";
      }
      const [sig, key] = await checkSignature(note);
      sigStatus.textContent = sig === "ok" ? t("SigOk", { key }) : sig === "bad" ? t("SigBad") : t("SigNa");
      box.dataset.signature = sig;
    } catch (e) {
      status.textContent = t("Error", { error: e.message || String(e) });
    }
  }
  run();
})();
