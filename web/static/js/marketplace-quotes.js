/* Sealed quotes of a marketplace purchase (marketplace/sealedquotes.py, docs/marketplace.md "Sealed quotes").
 * Posting: this browser makes the purchase's X25519 key pair with EtenderCrypto.createKeyFile (the key
 * holders' key file, locked with the owner's passphrase), saves the key file to the downloads and fills in
 * only the public key. Opening: the chosen key file is read into the form, to be sent with its passphrase at
 * the selection time (the key is then published with the result). */
(function () {
  "use strict";
  const box = document.getElementById("quote-key");
  const button = document.getElementById("make-quote-key");
  if (box && button && window.EtenderCrypto) {
    const status = document.getElementById("quote-key-status");
    button.addEventListener("click", async () => {
      const pass = document.getElementById("f-key-pass").value;
      if (pass.length < 8) { status.textContent = box.dataset.msgShort; return; }
      status.textContent = box.dataset.msgWorking;
      const made = await EtenderCrypto.createKeyFile(pass, "purchase quotes");
      const blob = new Blob([JSON.stringify(made.doc, null, 2)], { type: "application/json" });
      const link = document.createElement("a");
      link.href = URL.createObjectURL(blob);
      link.download = `purchase-key-${made.keyId.slice(0, 8)}.json`;
      document.body.appendChild(link);
      link.click();
      link.remove();
      document.getElementById("f-quote-key").value = made.doc.public_key;
      status.textContent = box.dataset.msgDone;
    });
  }
  const pick = document.getElementById("f-key-file-pick");
  if (pick) {
    pick.addEventListener("change", async () => {
      const file = pick.files && pick.files[0];
      if (file) document.getElementById("f-key-file").value = await file.text();
    });
  }
})();
