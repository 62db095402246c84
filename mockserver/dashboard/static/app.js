// The mock's dashboard: polls the journal's summaries, shows one entry whole on demand, and
// manages stubs through the admin API. Everything a request carried is shown as text
// (textContent), never as markup.
"use strict";

(() => {
  const KEY = "harness-mock-key";
  const POLL_MS = 1000;
  const PAGE = 100;
  const MAX_ROWS = 2000;
  const STUBS_EVERY = 5; // polls between stub refreshes while the stubs tab is hidden

  const $ = (selector) => document.querySelector(selector);
  const rowsBody = $("#requests tbody");
  const state = {
    newest: 0, // the highest seq shown
    paused: false,
    needKey: false,
    selected: null,
    filters: {},
    generation: 0, // moves when the filters change, so answers to older queries are dropped
    ticks: 0,
    online: true,
  };

  class NeedKey extends Error {}

  // --- helpers -------------------------------------------------------------------------

  function el(tag, options = {}, ...children) {
    const node = document.createElement(tag);
    if (options.className) node.className = options.className;
    if (options.text !== undefined && options.text !== null) node.textContent = String(options.text);
    if (options.title) node.title = options.title;
    for (const child of children) if (child) node.append(child);
    return node;
  }

  function badge(text, className) {
    return el("span", { className: "badge " + className, text });
  }

  function pretty(value) {
    if (value === undefined || value === null) return "";
    return typeof value === "string" ? value : JSON.stringify(value, null, 2);
  }

  function clock(seconds) {
    const date = new Date(seconds * 1000);
    const pad = (n, width = 2) => String(n).padStart(width, "0");
    return `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}.${pad(date.getMilliseconds(), 3)}`;
  }

  function bytes(count) {
    if (count < 1024) return `${count} B`;
    if (count < 1024 * 1024) return `${(count / 1024).toFixed(1)} KB`;
    return `${(count / 1024 / 1024).toFixed(1)} MB`;
  }

  // --- the admin API, with the key when the server wants one ----------------------------

  async function api(path, options = {}) {
    const headers = Object.assign({}, options.headers || {});
    const key = sessionStorage.getItem(KEY);
    if (key) headers.Authorization = "Bearer " + key;
    const response = await fetch(path, Object.assign({}, options, { headers, cache: "no-store" }));
    if (response.status === 401) {
      askForKey(key ? "That key was refused." : "");
      throw new NeedKey();
    }
    return response;
  }

  async function apiJson(path, options) {
    const response = await api(path, options);
    const body = await response.json().catch(() => ({}));
    if (!response.ok) {
      throw new Error((body.error && body.error.message) || `${response.status} ${response.statusText}`);
    }
    return body;
  }

  function askForKey(message) {
    state.needKey = true;
    $("#key-form").hidden = false;
    $("#key-error").textContent = message;
    setLive("key needed", "down");
    $("#key").focus();
  }

  $("#key-form").addEventListener("submit", (event) => {
    event.preventDefault();
    sessionStorage.setItem(KEY, $("#key").value.trim());
    $("#key").value = "";
    $("#key-form").hidden = true;
    state.needKey = false;
    start();
  });

  function setLive(text, className) {
    const live = $("#live");
    live.textContent = text;
    live.className = "live " + (className || "");
  }

  // --- the request list --------------------------------------------------------------------

  function filterQuery(extra) {
    const query = new URLSearchParams(extra);
    for (const [name, value] of Object.entries(state.filters)) query.set(name, value);
    return query.toString();
  }

  function row(entry) {
    const tr = el("tr");
    tr.dataset.seq = entry.seq;
    const status = entry.status || 0;
    const check =
      entry.valid === true ? badge("valid", "valid")
        : entry.valid === false ? badge("invalid", "invalid")
          : badge("unchecked", "unchecked");
    const cells = [
      el("td", { className: "num muted", text: entry.seq }),
      el("td", { className: "mono", text: entry.time ? clock(entry.time) : "" }),
      el("td", { text: entry.method }),
      el("td", { className: "path", text: entry.path }),
      el("td", { text: entry.model || "" }),
      el("td", { className: `s${String(status)[0]}`, text: status }),
      el("td", {}, entry.stream ? badge("stream", "stream") : null),
      el("td", { className: "mono", text: entry.stub_id || "" }),
      el("td", {}, entry.fault ? badge(entry.fault, "fault") : null),
      el("td", { className: "num", text: entry.latency_ms == null ? "" : `${entry.latency_ms.toFixed(1)} ms` }),
      el("td", {}, check),
    ];
    tr.append(...cells);
    if (entry.seq === state.selected) tr.classList.add("selected");
    return tr;
  }

  function showCounts() {
    const count = rowsBody.children.length;
    $("#empty").hidden = count > 0;
    const filtered = Object.keys(state.filters).length > 0;
    $("#shown").textContent = count ? `${count} shown${filtered ? " (filtered)" : ""}` : "";
  }

  function clearRows() {
    rowsBody.replaceChildren();
    state.newest = 0;
    state.generation += 1; // a "Load older" answer still on its way belongs to the old list
    $("#older").hidden = true;
    showCounts();
  }

  function dropBefore(oldest) {
    // Rows the journal no longer holds (a reset, or the oldest dropped past its caps).
    for (const tr of Array.from(rowsBody.children)) {
      if (oldest === null || Number(tr.dataset.seq) < oldest) tr.remove();
    }
    if (oldest === null) state.newest = 0;
  }

  function numberedAgain(body) {
    // The journal's seqs started again from 1 (a mock restarted, a Redis restarted empty):
    // its newest is below the page's, or its oldest is past it (all the page knew is gone).
    // The page's rows and its "after" then name other entries, or none.
    if (state.newest === 0) return false;
    return (body.newest != null && body.newest < state.newest) || (body.oldest != null && body.oldest > state.newest);
  }

  async function poll() {
    const generation = state.generation;
    const body = await apiJson("/_mock/ui/requests?" + filterQuery({ after: state.newest, limit: PAGE }));
    if (generation !== state.generation) return;
    if (numberedAgain(body)) {
      clearRows();
      await poll(); // once: the list is empty now, so this cannot happen again
      return;
    }
    dropBefore(body.oldest);
    // More than a page came since the last poll: the rows between would be missing, so the
    // list starts over from the newest page, the rest reached through "Load older".
    if (state.newest !== 0 && body.data.length === PAGE) clearRows();
    const first = state.newest === 0;
    if (body.data.length) {
      const fragment = document.createDocumentFragment();
      for (const entry of body.data) {
        const tr = row(entry);
        if (!first) tr.classList.add("fresh");
        fragment.append(tr);
      }
      rowsBody.prepend(fragment);
      state.newest = Math.max(state.newest, body.data[0].seq);
      if (rowsBody.children.length > MAX_ROWS) {
        while (rowsBody.children.length > MAX_ROWS) rowsBody.lastElementChild.remove();
        $("#older").hidden = false; // the rows dropped from the bottom are still there to load
      }
    }
    if (first) $("#older").hidden = body.data.length < PAGE;
    showCounts();
  }

  $("#older").addEventListener("click", async () => {
    const last = rowsBody.lastElementChild;
    if (!last) return;
    const generation = state.generation;
    const body = await apiJson("/_mock/ui/requests?" + filterQuery({ before: last.dataset.seq, limit: PAGE }));
    if (generation !== state.generation) return;
    for (const entry of body.data) rowsBody.append(row(entry));
    $("#older").hidden = body.data.length < PAGE;
    showCounts();
  });

  rowsBody.addEventListener("click", (event) => {
    const tr = event.target.closest("tr");
    if (tr) openEntry(Number(tr.dataset.seq));
  });

  // --- filters -----------------------------------------------------------------------------

  let filterTimer = null;

  function readFilters() {
    const form = $("#filters");
    const filters = {};
    for (const name of ["path", "status", "stub_id", "fault"]) {
      const value = form.elements[name].value.trim();
      if (value) filters[name] = value;
    }
    const status = form.elements.status;
    const badStatus = filters.status !== undefined && !/^\d{3}$/.test(filters.status);
    status.setCustomValidity(badStatus ? "a status code, such as 400" : "");
    if (badStatus) return null;
    if (form.elements.invalid.checked) filters.valid = "false";
    return filters;
  }

  function applyFilters() {
    const filters = readFilters();
    if (filters === null) return;
    state.filters = filters;
    state.generation += 1;
    clearRows();
    refresh();
  }

  $("#filters").addEventListener("input", () => {
    clearTimeout(filterTimer);
    filterTimer = setTimeout(applyFilters, 250);
  });
  $("#filters").addEventListener("reset", () => setTimeout(applyFilters, 0));
  $("#filters").addEventListener("submit", (event) => {
    event.preventDefault();
    applyFilters();
  });

  // --- one entry ------------------------------------------------------------------------------

  function section(title, ...children) {
    const part = document.createDocumentFragment();
    part.append(el("h3", { text: title }), ...children.filter(Boolean));
    return part;
  }

  function headersTable(headers) {
    const names = Object.keys(headers || {});
    if (!names.length) return el("p", { className: "muted", text: "not recorded" });
    const table = el("table", { className: "headers" });
    for (const name of names) {
      table.append(el("tr", {}, el("td", { text: name }), el("td", { text: headers[name] })));
    }
    return table;
  }

  function truncation(truncated, size, kept) {
    if (!truncated) return null;
    return el("p", { className: "note", text: `Cut: ${bytes(size)} sent, the first ${bytes(kept)} kept.` });
  }

  function streamEvents(text) {
    // Server-sent events: blocks split by a blank line, "event:" and "data:" fields.
    const list = el("div");
    for (const block of text.split(/\r?\n\r?\n/)) {
      if (!block.trim()) continue;
      let name = "message";
      const data = [];
      for (const line of block.split(/\r?\n/)) {
        if (line.startsWith("event:")) name = line.slice(6).trim();
        else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
      }
      let shown = data.join("\n");
      try {
        shown = JSON.stringify(JSON.parse(shown), null, 2);
      } catch (_) {
        // [DONE], or a frame a fault broke: shown as it was sent
      }
      list.append(el("div", { className: "event" }, el("div", { className: "name", text: name }), el("pre", { text: shown })));
    }
    return list;
  }

  function responseBody(entry) {
    if (!("response_body" in entry)) return el("p", { className: "muted", text: "not recorded" });
    const body = entry.response_body;
    if (entry.stream && typeof body === "string" && !entry.response_body_truncated) return streamEvents(body);
    if (body === "" || body === null) return el("p", { className: "muted", text: "empty" });
    return el("pre", { text: pretty(body) });
  }

  function renderEntry(entry) {
    const detail = $("#detail");
    const facts = el("p", { className: "facts" });
    const fact = (label, value) => {
      if (value === undefined || value === null || value === "") return;
      facts.append(el("span", {}, document.createTextNode(label + " "), el("b", { text: value })));
    };
    fact("status", entry.status);
    fact("at", entry.time ? clock(entry.time) : null);
    fact("latency", entry.latency_ms == null ? null : `${entry.latency_ms.toFixed(1)} ms`);
    fact("model", entry.model || (entry.body && entry.body.model));
    fact("stub", entry.stub_id);
    fact("fault", entry.fault);
    fact("request id", entry.request_id);
    const violations = entry.violations || [];
    let violationList = null;
    if (violations.length) {
      violationList = el("ul", { className: "violations" });
      for (const violation of violations) {
        const where = violation.pointer !== undefined ? violation.pointer || "(the body)" : violation.param;
        violationList.append(el("li", {}, el("code", { text: where }), document.createTextNode(" " + violation.message)));
      }
    }
    const check =
      entry.valid === true ? badge("valid", "valid")
        : entry.valid === false ? badge("invalid", "invalid") : badge("unchecked", "unchecked");
    detail.replaceChildren(
      el("h2", { text: `${entry.method} ${entry.path}` }),
      el("div", {}, check, document.createTextNode(" "), entry.stream ? badge("stream", "stream") : ""),
      facts,
      violationList ? section(`Violations (${violations.length})`, violationList) : "",
      section("Request body", truncation(entry.body_truncated, entry.body_size, (typeof entry.body === "string" ? entry.body.length : 0)), entry.body == null ? el("p", { className: "muted", text: "none" }) : el("pre", { text: pretty(entry.body) })),
      section(entry.stream ? "Response events" : "Response body", truncation(entry.response_body_truncated, entry.response_body_size, (typeof entry.response_body === "string" ? entry.response_body.length : 0)), responseBody(entry)),
      section("Request headers", headersTable(entry.request_headers)),
      section("Response headers", headersTable(entry.response_headers)),
    );
    detail.scrollTop = 0;
  }

  async function openEntry(seq) {
    state.selected = seq;
    for (const tr of rowsBody.querySelectorAll("tr.selected")) tr.classList.remove("selected");
    const tr = rowsBody.querySelector(`tr[data-seq="${seq}"]`);
    if (tr) tr.classList.add("selected");
    try {
      const response = await api(`/_mock/ui/requests/${seq}`);
      if (response.status === 404) {
        $("#detail").replaceChildren(el("p", { className: "empty", text: "This entry is gone (the journal was cleared, or dropped its oldest)." }));
        return;
      }
      const entry = await response.json();
      if (state.selected === seq) renderEntry(entry);
    } catch (error) {
      if (!(error instanceof NeedKey)) $("#detail").replaceChildren(el("p", { className: "error", text: String(error) }));
    }
  }

  // --- stubs ------------------------------------------------------------------------------------

  // The page's own stub list (/_mock/ui/stubs): each stub's match and reply cut short, and an
  // ETag, so an unchanged list costs a bodiless 304 (the admin API's list sends every stub
  // whole, megabytes a poll for a big one).
  let stubsTag = null;

  async function loadStubs() {
    const headers = stubsTag ? { "If-None-Match": stubsTag } : {};
    const response = await api("/_mock/ui/stubs", { headers });
    if (response.status === 304) return;
    if (!response.ok) throw new Error(`${response.status} ${response.statusText}`);
    const body = await response.json();
    stubsTag = response.headers.get("ETag");
    const stubs = body.data || [];
    $("#stub-count").textContent = stubs.length;
    const ids = $("#stub-ids");
    ids.replaceChildren(...stubs.map((stub) => el("option", { text: stub.id })));
    const tbody = $("#stubs tbody");
    tbody.replaceChildren(
      ...stubs.map((stub) => {
        const remove = el("button", { className: "quiet", text: "Delete", title: `DELETE /_mock/stubs/${stub.id}` });
        const size = stub.cut ? el("span", { className: "muted", text: ` (${bytes(stub.size)} in all)` }) : null;
        remove.addEventListener("click", async () => {
          await api(`/_mock/stubs/${encodeURIComponent(stub.id)}`, { method: "DELETE" });
          await loadStubs();
        });
        const tr = el(
          "tr",
          {},
          el("td", {}, el("code", { text: stub.id })),
          el("td", {}, el("code", { text: stub.match })),
          // A sequence stub lists its replies (and what follows the last) instead of one reply.
          el("td", {}, el("code", { text: stub.reply }), size),
          el("td", { className: "num", text: stub.priority }),
          el("td", { className: "num used", text: stub.used }),
          el("td", { className: "num", text: stub.times == null ? "∞" : stub.times }),
          el("td", {}, remove),
        );
        tr.dataset.id = stub.id;
        return tr;
      }),
    );
    $("#no-stubs").hidden = stubs.length > 0;
  }

  $("#add-stub").addEventListener("submit", async (event) => {
    event.preventDefault();
    const error = $("#stub-error");
    const text = $("#stub-json").value;
    try {
      JSON.parse(text);
    } catch (problem) {
      error.textContent = "Not JSON: " + problem.message;
      return;
    }
    try {
      await apiJson("/_mock/stubs", { method: "POST", headers: { "Content-Type": "application/json" }, body: text });
      error.textContent = "";
      $("#stub-json").value = "";
      await loadStubs();
    } catch (problem) {
      if (!(problem instanceof NeedKey)) error.textContent = problem.message;
    }
  });

  // --- tabs, pause, reset -----------------------------------------------------------------

  function showTab(name) {
    const stubs = name === "stubs";
    $("#tab-requests").setAttribute("aria-selected", String(!stubs));
    $("#tab-stubs").setAttribute("aria-selected", String(stubs));
    $("#requests-view").hidden = stubs;
    $("#stubs-view").hidden = !stubs;
    if (stubs) loadStubs().catch(() => {});
  }

  $("#tab-requests").addEventListener("click", () => showTab("requests"));
  $("#tab-stubs").addEventListener("click", () => showTab("stubs"));

  $("#pause").addEventListener("click", () => {
    state.paused = !state.paused;
    $("#pause").textContent = state.paused ? "Resume" : "Pause";
    setLive(state.paused ? "paused" : "live", state.paused ? "paused" : "");
    if (!state.paused) refresh();
  });

  let disarm = null;
  $("#reset").addEventListener("click", async () => {
    const button = $("#reset");
    if (!button.classList.contains("armed")) {
      button.classList.add("armed");
      button.textContent = "Confirm reset";
      disarm = setTimeout(() => {
        button.classList.remove("armed");
        button.textContent = "Reset";
      }, 4000);
      return;
    }
    clearTimeout(disarm);
    button.classList.remove("armed");
    button.textContent = "Reset";
    await api("/_mock/reset", { method: "POST" });
    clearRows();
    $("#detail").replaceChildren(el("p", { className: "empty", text: "The journal and the stubs were reset." }));
    await loadStubs();
    refresh();
  });

  // --- the loop ---------------------------------------------------------------------------------

  let running = false;

  async function refresh() {
    if (running || state.needKey) return;
    running = true;
    try {
      if (!state.paused && !state.journalOff) await poll();
      const stubsShown = !$("#stubs-view").hidden;
      if (stubsShown || state.ticks % STUBS_EVERY === 0) await loadStubs();
      state.ticks += 1;
      if (!state.online || $("#live").classList.contains("down")) {
        state.online = true;
        setLive(state.paused ? "paused" : "live", state.paused ? "paused" : "");
      }
    } catch (error) {
      if (!(error instanceof NeedKey)) {
        state.online = false;
        setLive("offline", "down");
      }
    } finally {
      running = false;
    }
  }

  async function loadMeta() {
    const meta = await apiJson("/_mock/ui/meta");
    if (meta.journal === false) {
      // Started with --no-journal: there are no requests to list, only stubs to show.
      state.journalOff = true;
      $("#empty").textContent = "The request journal is off: this mock was started with --no-journal.";
    }
    $("#paths").replaceChildren(...meta.paths.map((path) => el("option", { text: path })));
    const faults = $("#filters").elements.fault;
    faults.replaceChildren(el("option", { text: "any" }), ...meta.faults.map((name) => el("option", { text: name })));
    faults.options[0].value = "";
  }

  async function start() {
    try {
      await loadMeta();
    } catch (error) {
      if (error instanceof NeedKey) return;
    }
    state.generation += 1;
    clearRows();
    await refresh();
  }

  document.addEventListener("visibilitychange", () => {
    if (!document.hidden) refresh();
  });
  setInterval(() => {
    if (!document.hidden) refresh();
  }, POLL_MS);
  start();
})();
