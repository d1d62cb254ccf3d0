/* The key holder's page: create an X25519 key pair here, download it as a passphrase-protected key file,
 * and fill the public key into the registration form. The private key is never sent anywhere.
 *
 * Before the public key is registered, the holder loads the saved key file back and types its passphrase;
 * the file is opened here (EtenderCrypto.checkKeyFile) and must hold the private key of the public key in
 * the form. Only then is the register button enabled: a holder cannot register a key it never saved, which
 * would leave it unable to open the bids. Nothing typed or chosen is cleared when a check fails. */
(function () {
  "use strict";
  const form = document.getElementById("register-form");
  if (!form) return;
  const box = document.getElementById("keygen");
  const proof = document.getElementById("key-proof");
  const field = document.getElementById("f-public_key");
  const button = document.getElementById("register-key");
  const proofStatus = document.getElementById("proof-status");
  let proven = null;  // the public key the loaded key file was checked against

  function say(el, text, ok) {
    el.textContent = text;
    el.classList.toggle("ok", ok === true);
    el.classList.toggle("failed", ok === false);
  }
  function current() { return field.value.trim(); }
  function refresh() {
    const ok = proven !== null && proven === current();
    button.disabled = !ok;
    return ok;
  }
  proof.hidden = false;  // without script the form cannot be used: the noscript note says so
  refresh();

  if (box) {
    const status = document.getElementById("keygen-status");
    const link = document.getElementById("download-key");
    document.getElementById("make-key").addEventListener("click", async () => {
      const p1 = document.getElementById("pass1").value, p2 = document.getElementById("pass2").value;
      if (p1.length < 8) { say(status, box.dataset.msgShort, false); return; }
      if (p1 !== p2) { say(status, box.dataset.msgMismatch, false); return; }
      say(status, box.dataset.msgWorking);
      let made;
      try {
        made = await EtenderCrypto.createKeyFile(p1, box.dataset.label);
      } catch (e) {
        say(status, box.dataset.msgUnsupported + " (" + e.message + ")", false);
        return;
      }
      const blob = new Blob([JSON.stringify(made.doc, null, 2)], { type: "application/json" });
      if (link.href.startsWith("blob:")) URL.revokeObjectURL(link.href);
      link.href = URL.createObjectURL(blob);
      link.download = box.dataset.filename;
      link.hidden = false;
      field.value = made.doc.public_key;
      proven = null;
      refresh();
      say(status, box.dataset.msgReady, true);
      say(proofStatus, "");
    });
  }

  field.addEventListener("input", () => {
    if (proven !== null && !refresh()) say(proofStatus, proof.dataset.msgChanged, false);
  });

  function readFile(input) {
    return new Promise((resolve, reject) => {
      const reader = new FileReader();
      reader.onload = () => resolve(reader.result);
      reader.onerror = () => reject(reader.error);
      reader.readAsText(input.files[0]);
    });
  }

  document.getElementById("check-key").addEventListener("click", async () => {
    const input = document.getElementById("proof-file");
    const passphrase = document.getElementById("proof-pass").value;
    const publicKey = current();
    if (!publicKey) { say(proofStatus, proof.dataset.msgNoKey, false); return; }
    if (!input.files.length) { say(proofStatus, proof.dataset.msgNoFile, false); return; }
    if (!passphrase) { say(proofStatus, proof.dataset.msgNoPass, false); return; }
    proven = null;
    refresh();
    say(proofStatus, proof.dataset.msgWorking);
    try {
      await EtenderCrypto.checkKeyFile(await readFile(input), passphrase, publicKey);
    } catch (e) {
      const message = { passphrase_wrong: proof.dataset.msgPassphrase, key_file_other: proof.dataset.msgOther }[e.message];
      say(proofStatus, message || proof.dataset.msgInvalid, false);
      return;
    }
    if (publicKey !== current()) { say(proofStatus, proof.dataset.msgChanged, false); return; }  // edited meanwhile
    proven = publicKey;
    refresh();
    say(proofStatus, proof.dataset.msgOk, true);
  });

  form.addEventListener("submit", (event) => {
    if (!refresh()) {
      event.preventDefault();
      say(proofStatus, proof.dataset.msgBlocked, false);
    }
  });
})();
