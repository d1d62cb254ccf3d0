/* The project owner's random number for a marketplace selection (docs/marketplace-selection.md, "The
 * exchange"), made and kept in this browser. Commit: 32 bytes from crypto.getRandomValues are kept in
 * localStorage under the purchase and the party BEFORE anything is sent; only their SHA-256 goes into the
 * commitment field and the form is posted. Reveal: the kept number fills the value field. The number leaves
 * the browser only in the reveal, once its fingerprint is recorded and can no longer change. */
(function () {
  "use strict";
  const box = document.getElementById("contribution");
  if (!box || !window.crypto || !crypto.subtle) return;
  const key = `etender-selection-${box.dataset.purchase}-${box.dataset.party}`;

  function hex(bytes) {
    return Array.from(new Uint8Array(bytes), (b) => b.toString(16).padStart(2, "0")).join("");
  }

  const commitForm = document.getElementById("commit-form");
  if (commitForm) {
    commitForm.addEventListener("submit", async (event) => {
      const field = document.getElementById("f-commitment");
      if (field.value) return; // typed by hand
      event.preventDefault();
      let value = localStorage.getItem(key);
      if (!value) {
        value = hex(crypto.getRandomValues(new Uint8Array(32)));
        localStorage.setItem(key, value);
      }
      const bytes = new Uint8Array(value.match(/../g).map((h) => parseInt(h, 16)));
      field.value = hex(await crypto.subtle.digest("SHA-256", bytes));
      commitForm.submit();
    });
  }
  const valueField = document.getElementById("f-value");
  if (valueField && !valueField.value) {
    valueField.value = localStorage.getItem(key) || "";
  }
})();
