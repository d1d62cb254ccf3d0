"""The report's signing key in the browser (web/static/js/report-signing.js, docs/evaluation-report.md): the
page's own script makes an Ed25519 key with WebCrypto, keeps the private key in the browser and sends only the
public key; its signature over "etender-report-1\\n" + the report's SHA-256 verifies in Python
(evaluation.report.rules); a browser that does not hold the seat's registered key refuses to sign. The forms'
submission is captured instead of sent, so the script runs alone on a page of the demo server."""

from __future__ import annotations

from evaluation.report import rules

BOX = """
<section id="sign" data-session="1" data-seat="2" data-registered="" data-sha="{sha}"
  data-msg-unsupported="unsupported" data-msg-missing="missing" data-msg-working="working">
  <form id="key-form"><input type="hidden" name="public_key" id="f-public_key">
    <button type="button" id="make-key">key</button><span id="key-status"></span></form>
  <form id="sign-form"><input type="hidden" name="signature" id="f-signature">
    <textarea name="dissent">不同意</textarea>
    <button type="button" id="sign-report">sign</button><span id="sign-status"></span></form>
</section>
"""

LOAD = """(html) => {
  window.__sent = [];
  HTMLFormElement.prototype.submit = function () {
    window.__sent.push(Object.fromEntries(new FormData(this)));
  };
  document.body.innerHTML = html;
  const s = document.createElement("script");
  s.src = "/static/js/report-signing.js";
  return new Promise((resolve) => { s.onload = resolve; document.body.appendChild(s); });
}"""


def test_the_browser_key_signs_what_python_verifies(new_page):
    sha = rules.report_sha256({"format": rules.DOCUMENT_FORMAT, "test": "浏览器"})
    page = new_page()
    page.goto("/")
    page.evaluate(LOAD, BOX.format(sha=sha))
    page.click("#make-key")
    page.wait_for_function("(n) => window.__sent.length === n", arg=1, timeout=30000)
    public = page.evaluate("window.__sent[0].public_key")
    assert page.inner_text("#key-status") != "unsupported" and rules.public_key_problem(public) is None
    # another registered key: this browser does not hold it, and says so
    page.evaluate("document.getElementById('sign').dataset.registered = '00'.repeat(32)")
    page.click("#sign-report")
    page.wait_for_function("(t) => document.getElementById('sign-status').textContent === t", arg="missing")
    page.evaluate("(k) => { document.getElementById('sign').dataset.registered = k; }", public)
    page.click("#sign-report")
    page.wait_for_function("(n) => window.__sent.length === n", arg=2, timeout=30000)
    sent = page.evaluate("window.__sent[1]")
    assert sent["dissent"] == "不同意"
    assert rules.signature_valid(public, sha, sent["signature"])
    assert not rules.signature_valid(public, "0" * 64, sent["signature"])
    # the private key is not extractable: the browser keeps it and cannot export it
    extractable = page.evaluate(
        """() => new Promise((resolve) => {
          const req = indexedDB.open("etender-report-keys", 1);
          req.onsuccess = () => {
            const get = req.result.transaction("keys").objectStore("keys").get("report:1:2");
            get.onsuccess = () => resolve(get.result.privateKey.extractable);
          };
        })"""
    )
    assert extractable is False
