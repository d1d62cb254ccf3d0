// The monitors' live audit feed: new entries arrive over server-sent events (/api/v1/audit/stream, with the
// page's filters) and are put at the top of the table. EventSource resumes after the last entry it saw by
// itself (Last-Event-ID); the first connection starts after the newest entry the page already shows.
"use strict";
(function () {
  const table = document.getElementById("feed");
  const status = document.getElementById("live-status");
  if (!table || !window.EventSource) return;
  const body = table.tBodies[0];
  const url = table.dataset.stream + "&last_event_id=" + encodeURIComponent(table.dataset.last);
  const cell = (tr, text, cls) => { const td = tr.insertCell(-1); td.textContent = text == null ? "" : String(text); if (cls) td.className = cls; return td; };
  const pad = (n) => String(n).padStart(2, "0");
  const cst = (iso) => { // shown in China Standard Time, as the server renders it
    const d = new Date(new Date(iso).getTime() + 8 * 3600 * 1000);
    return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
  };
  const confidential = status.dataset.confidential || "(confidential)";
  const orgs = JSON.parse(table.dataset.orgs || "{}");
  // events and roles by name in the page's language, subjects by the names the page knows (issue 16)
  const names = JSON.parse(table.dataset.names || "{}");
  const events = names.events || {};
  const roles = names.roles || {};
  const subjects = JSON.parse(table.dataset.subjects || "{}");
  const source = new EventSource(url);
  source.onopen = () => { status.textContent = status.dataset.live; status.className = "hint live"; };
  source.onerror = () => { status.textContent = status.dataset.lost; status.className = "hint lost"; };
  source.addEventListener("entry", (ev) => {
    const item = JSON.parse(ev.data);
    if (item.withheld) return;  // withheld until its disclosure time: nothing to show but its hash
    if (body.querySelector(`tr[data-index="${item.index}"]`)) return;
    const empty = body.querySelector("tr.empty");
    if (empty) empty.remove();
    const d = item.decoded;
    const tr = body.insertRow(0);
    tr.dataset.index = item.index;
    tr.className = "new";
    const a = document.createElement("a");
    a.href = `/monitor/audit/entries/${item.index}`;
    a.textContent = item.index;
    cell(tr, "", "num").appendChild(a);
    cell(tr, cst(d.time));
    const code = document.createElement("code");  // the tag as the entry carries it, its name beside it
    code.textContent = d.tag;
    const event = cell(tr, "");
    event.appendChild(code);
    event.appendChild(document.createTextNode(" · " + (events[d.tag] || table.dataset.other || "")));
    cell(tr, d.actor === "(confidential)" ? confidential : d.actor);
    cell(tr, d.role ? (roles[d.role] || "") : "");
    cell(tr, d.organisation == null ? "" : (orgs[d.organisation] || d.organisation));
    // the address is beside the entry (item.address), never in its bytes; older entries have it there (d.ip)
    cell(tr, d.actor === "(confidential)" || d.ip === "(confidential)" ? confidential : (item.address ? item.address.ip : d.ip));
    cell(tr, d.subject ? (subjects[d.subject] || "—") : "");
  });
})();
