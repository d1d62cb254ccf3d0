/* The key holder's page: create an X25519 key pair here, download it as a passphrase-protected key file,
 * and fill the public key into the registration form. The private key is never sent anywhere. */
(function () {
  "use strict";
  const box = document.getElementById("keygen");
  if (!box) return;
  const status = document.getElementById("keygen-status");
  const link = document.getElementById("download-key");
  document.getElementById("make-key").addEventListener("click", async () => {
    const p1 = document.getElementById("pass1").value, p2 = document.getElementById("pass2").value;
    if (p1.length < 8) { status.textContent = box.dataset.msgShort; return; }
    if (p1 !== p2) { status.textContent = box.dataset.msgMismatch; return; }
    status.textContent = box.dataset.msgWorking;
    let made;
    try {
      made = await EtenderCrypto.createKeyFile(p1, box.dataset.label);
    } catch (e) {
      status.textContent = box.dataset.msgUnsupported + " (" + e.message + ")";
      return;
    }
    const blob = new Blob([JSON.stringify(made.doc, null, 2)], { type: "application/json" });
    link.href = URL.createObjectURL(blob);
    link.download = box.dataset.filename;
    link.hidden = false;
    document.getElementById("f-public_key").value = made.doc.public_key;
    status.textContent = box.dataset.msgReady;
  });
})();
