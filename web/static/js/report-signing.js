/* The member's signing key for the evaluation report (docs/evaluation-report.md, "Signing").
 *
 * "Make my signing key": an Ed25519 key pair made here with WebCrypto, its private key NOT extractable and
 * kept in this browser's IndexedDB (per session and seat); only the public key (32 bytes, hex) is sent, to be
 * registered for the seat. "Sign the report": the key signs "etender-report-1\n" + the report's SHA-256 in
 * lowercase hex (UTF-8); the 64-byte signature (hex) is sent with the optional written dissent. The server
 * verifies it before accepting it. The private key never leaves the browser. */
(function () {
  "use strict";
  const box = document.getElementById("sign");
  if (!box) return;
  const hex = (b) => Array.from(new Uint8Array(b), (x) => x.toString(16).padStart(2, "0")).join("");
  const name = "report:" + box.dataset.session + ":" + box.dataset.seat;
  const PREFIX = "etender-report-1\n";  // evaluation.report.rules.SIGNING_PREFIX

  function db() {
    return new Promise((resolve, reject) => {
      const req = indexedDB.open("etender-report-keys", 1);
      req.onupgradeneeded = () => req.result.createObjectStore("keys");
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => reject(req.error);
    });
  }
  async function put(value) {
    const d = await db();
    return new Promise((resolve, reject) => {
      const tx = d.transaction("keys", "readwrite");
      tx.objectStore("keys").put(value, name);
      tx.oncomplete = () => resolve();
      tx.onerror = () => reject(tx.error);
    });
  }
  async function get() {
    const d = await db();
    return new Promise((resolve, reject) => {
      const req = d.transaction("keys").objectStore("keys").get(name);
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => reject(req.error);
    });
  }
  function say(el, text, ok) {
    if (!el) return;
    el.textContent = text;
    el.classList.toggle("failed", ok === false);
  }

  const make = document.getElementById("make-key");
  if (make) {
    make.addEventListener("click", async () => {
      const status = document.getElementById("key-status");
      say(status, box.dataset.msgWorking);
      let pair;
      try {
        pair = await crypto.subtle.generateKey({ name: "Ed25519" }, false, ["sign", "verify"]);
      } catch (e) {
        say(status, box.dataset.msgUnsupported, false);
        return;
      }
      const publicRaw = await crypto.subtle.exportKey("raw", pair.publicKey);
      await put({ privateKey: pair.privateKey, publicKey: hex(publicRaw) });
      document.getElementById("f-public_key").value = hex(publicRaw);
      document.getElementById("key-form").submit();
    });
  }

  const signButton = document.getElementById("sign-report");
  if (signButton) {
    signButton.addEventListener("click", async () => {
      const status = document.getElementById("sign-status");
      const held = await get().catch(() => undefined);
      if (!held || held.publicKey !== box.dataset.registered) { say(status, box.dataset.msgMissing, false); return; }
      say(status, box.dataset.msgWorking);
      const message = new TextEncoder().encode(PREFIX + box.dataset.sha.toLowerCase());
      const signature = await crypto.subtle.sign({ name: "Ed25519" }, held.privateKey, message);
      document.getElementById("f-signature").value = hex(signature);
      document.getElementById("sign-form").submit();
    });
  }
})();
