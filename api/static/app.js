/* 信易 web page: chat, facts, documents, 措施清单, 行为清单 and a staff view over the /v1 API (read-only, or
   with uploads when GET /v1/capabilities allows them).
   Plain JS, no build step, nothing loaded from elsewhere. Every piece of data goes into the DOM as text
   (textContent / createTextNode), never as markup. */
"use strict";

(() => {
  const SESSION_KEY = "xinyi.session";
  const LAST_KEY = "xinyi.lastReply";
  const ATTESTED_KEY = "xinyi.attestedText";
  const TOKEN_KEY = "xinyi.staffToken";  // sessionStorage: gone when the tab closes
  const RERUN_MESSAGE = "按页面上改过的情况，结果是否有变化？";  // knowledge/session_facts.py
  const KIND = { incentive: "激励", penalty: "惩戒", other: "其他" };
  const ROLE = { incentive_eligibility: "守信激励条件", penalty_trigger: "失信惩戒情形", scope: "适用范围", other: "其他" };
  const STATUS = { applies: "适用", does_not_apply: "不适用", undetermined: "尚不能确定" };
  const REVIEW_KIND = {
    no_findings: "没有找到措施或条件", no_measures: "没有措施", no_rules: "没有规则", stale_correction: "校正已失效",
    few_measures: "措施很少", measure_without_rule: "措施不在任何规则中", measure_without_departments: "措施没有实施部门",
    attestation_only: "条件需企业确认",
  };

  const state = {
    schema: null, sessionId: null, facts: {}, asOf: "", busy: false,
    documents: null, docCache: new Map(), allMeasures: null, measures: [], conditions: null,
  };

  // ---- small helpers ------------------------------------------------------------------------------------

  const $ = (id) => document.getElementById(id);

  /** An element with attributes and children; strings become text nodes (never parsed as HTML). */
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === "class") node.className = v;
      else if (k === "text") node.textContent = v;
      else if (k.startsWith("on") && typeof v === "function") node.addEventListener(k.slice(2), v);
      else if (k === "dataset") Object.assign(node.dataset, v);
      else if (v === true) node.setAttribute(k, "");
      else node.setAttribute(k, String(v));
    }
    append(node, children);
    return node;
  }

  function append(node, children) {
    for (const c of children.flat(Infinity)) {
      if (c === null || c === undefined || c === false) continue;
      node.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return node;
  }

  function clear(node) { node.replaceChildren(); return node; }

  async function api(path, options = {}) {
    const opts = { headers: { Accept: "application/json" }, ...options };
    if (opts.json !== undefined) {
      opts.body = JSON.stringify(opts.json);
      opts.headers["Content-Type"] = "application/json";
      delete opts.json;
    }
    let res;
    try {
      res = await fetch(path, opts);
    } catch (e) {
      throw new Error("无法连接服务器，请稍后再试。");
    }
    if (res.status === 204) return null;
    let body = null;
    try { body = await res.json(); } catch (e) { body = null; }
    if (!res.ok) {
      const err = new Error(errorText(res.status, body));
      err.status = res.status;
      err.detail = body && body.error;  // the server's own words (English), for whoever reads the console
      throw err;
    }
    return body;
  }

  const ERRORS = {
    400: "请求有误。", 404: "没有找到所要的内容。", 409: "这段对话正有另一轮在处理，请再发送一次。",
    413: "内容太长，请缩短后再试。", 422: "输入的内容不符合要求", 429: "提问太频繁，请稍等片刻再发送。",
    500: "服务器出错，这次请求没有完成。", 503: "知识库或对话记录暂时不可用，请稍后再试。",
  };

  /** The error in Chinese; for bad input, which item (by its Chinese label when it is a profile fact). */
  function errorText(status, body) {
    let text = ERRORS[status] || `请求没有完成（${status}）。`;
    if (status === 422) {
      const field = body && body.field ? String(body.field) : "";
      const key = field.replace(/^facts\./, "").split(/[.[]/)[0];
      const label = key && state.schema && state.schema.facts[key] ? state.schema.facts[key].label : field;
      text += label ? `：${label}。` : "。";
    }
    return text;
  }

  function setStatus(id, text, isError) {
    const node = $(id);
    node.textContent = text || "";
    node.classList.toggle("error", Boolean(isError));
  }

  const today = () => new Date().toISOString().slice(0, 10);
  const shortTitle = (t) => (t || "").replace(/^关于/, "");
  const pathText = (path) => (path || []).join("");
  const citeKey = (c) => [c.document_id || c.source_file, pathText(c.path), c.quote].join("|");
  const citeLabel = (c) => `《${c.title || c.source_file || ""}》${pathText(c.path)}`;

  function readJSON(key, fallback) {
    try { const v = localStorage.getItem(key); return v ? JSON.parse(v) : fallback; } catch (e) { return fallback; }
  }
  function writeJSON(key, value) {
    try { localStorage.setItem(key, JSON.stringify(value)); } catch (e) { /* storage full or off: not kept */ }
  }

  // ---- the profile declaration: labels, choices ---------------------------------------------------------

  function factDecl(key) { return (state.schema && state.schema.facts[key]) || { type: "string", label: key }; }
  function eventLabel(type) { return (state.schema && state.schema.events[type] && state.schema.events[type].label) || type; }

  function choiceLabel(decl, value) {
    const labels = decl.choice_labels || {};
    return labels[String(value)] || `${value}${decl.unit || ""}`;
  }

  function showValue(key, value) {
    const d = factDecl(key);
    if (value === null || value === undefined) return "未知";
    if (d.type === "boolean") return value ? "是" : "否";
    if (d.type === "choice") return choiceLabel(d, value);
    if (d.type === "string_list") return value.join("、");
    if (d.type === "count") return `${value}${d.unit || ""}`;
    return String(value);
  }

  function describeEvent(ev) {
    const fields = [];
    if (ev.fatalities) fields.push(`死亡${ev.fatalities}人`);
    if (ev.severity) fields.push(`${typeof ev.severity === "object" ? ev.severity.at_least + "及以上" : ev.severity}事故`);
    if (ev.responsible) fields.push("责任事故");
    if (ev.major) fields.push("重大行政处罚");
    if (ev.authority) fields.push(`${ev.authority}作出`);
    if (ev.subject && ev.subject !== "unit") {
      const sub = state.schema && state.schema.event_fields.subject;
      fields.push(sub ? choiceLabel(sub, ev.subject) : ev.subject);
    }
    return eventLabel(ev.type) + (fields.length ? `（${fields.join("，")}）` : "");
  }

  function eventFactText(ev) {
    const ty = state.schema && state.schema.events[ev.type];
    if (ty && ty.status) return `已${eventLabel(ev.type)}`;
    const when = ev.date || (ev.date_from ? `${ev.date_from}至${ev.date_to || ""}` : "日期未说明");
    return `${when}有${describeEvent(ev)}`;
  }

  function denialText(d) {
    const span = d.within_years ? `近${d.within_years}年` : (d.date_from ? `${d.date_from}至${d.date_to || ""}` : "");
    const what = d.fatal ? "亡人事故" : eventLabel(d.type);
    return `${span}没有${what}`;
  }

  // ---- predicates in words --------------------------------------------------------------------------

  function predicateNode(p) {
    if (!p || typeof p !== "object") return el("span", { class: "muted", text: "未能读出判断条件" });
    if (p.attested !== undefined) {
      return el("span", {}, el("span", { class: "badge attest", text: "需企业确认" }), " ", p.text || "条款所述情形");
    }
    if (p.all || p.any) {
      const list = el("ul", { class: "pred-list" }, (p.all || p.any).map((x) => el("li", {}, predicateNode(x))));
      return el("div", {}, el("span", { text: p.all ? "同时满足：" : "满足其一：" }), list);
    }
    if (p.not) {
      const inner = p.not;
      if (inner.event) return el("span", { text: `${within(inner.within)}没有${describeWant(inner.event)}` });
      return el("span", {}, "不属于：", predicateNode(inner));
    }
    if (p.event) {
      const times = p.at_least ? `至少${p.at_least}次` : "有";
      return el("span", { text: `${within(p.within)}${times}${describeWant(p.event)}` });
    }
    if (p.industry_any) return el("span", { text: `行业属于：${p.industry_any.join("、")}` });
    if (p.fact) {
      const d = factDecl(p.fact);
      if (d.type === "boolean") return el("span", { text: `${d.label.replace(/^是否/, "")}：${p.value === true ? "是" : "否"}` });
      if (d.type === "choice") {
        const v = choiceLabel(d, p.value);
        const word = p.op === "<=" ? "及以上" : p.op === ">=" ? "及以下" : "";
        return el("span", { text: `${d.label}：${v}${word}` });
      }
      const op = { "<=": "不超过", ">=": "不少于", "==": "为" }[p.op] || p.op;
      return el("span", { text: `${d.label}${op}${p.value}${d.unit || ""}` });
    }
    return el("code", { text: JSON.stringify(p) });
  }

  function within(w) {
    if (!w || (!w.years && !w.months)) return "";
    return w.years ? `${w.years}年内` : `${w.months}个月内`;
  }

  function describeWant(want) {
    const ev = { ...want };
    if (ev.fatalities && typeof ev.fatalities === "object") { delete ev.fatalities; return "造成人员死亡的" + describeEvent(ev); }
    return describeEvent(ev);
  }

  // ---- documents and clauses ----------------------------------------------------------------------

  async function loadDocument(id, version) {
    const key = `${id}@${version || ""}`;
    if (!state.docCache.has(key)) {
      const q = version ? `?version=${encodeURIComponent(version)}` : "";
      state.docCache.set(key, api(`/v1/documents/${encodeURIComponent(id)}${q}`).catch((e) => {
        state.docCache.delete(key);
        throw e;
      }));
    }
    return state.docCache.get(key);
  }

  function flatClauses(tree, out = []) {
    for (const c of tree || []) { out.push(c); flatClauses(c.children, out); }
    return out;
  }

  function findClause(doc, cite) {
    const all = flatClauses(doc.clauses);
    const want = pathText(cite.path);
    return (want && all.find((c) => pathText(c.path) === want))
      || (cite.quote && all.find((c) => c.text.includes(cite.quote))) || null;
  }

  function validity(doc, day) {
    const d = day || state.asOf || today();
    if (doc.superseded_on && doc.superseded_on <= d) return { text: `已被替代（${doc.superseded_on}起）`, cls: "old" };
    if (doc.expires && doc.expires < d) return { text: `已失效（${doc.expires}到期）`, cls: "old" };
    if (doc.effective_from && doc.effective_from > d) return { text: `尚未施行（${doc.effective_from}起）`, cls: "future" };
    if (doc.trial) return { text: "试行", cls: "trial" };
    return { text: "现行有效", cls: "ok" };
  }

  function validityBadge(doc) {
    const v = validity(doc);
    return el("span", { class: `badge validity ${v.cls}`, text: v.text });
  }

  /** The clause a citation names, in full, with its document and version (loaded when first opened). */
  async function clauseView(cite) {
    const box = el("div", { class: "clause-view" });
    if (!cite.document_id) {
      box.append(el("p", { class: "quote", text: cite.quote }));
      return box;
    }
    const doc = await loadDocument(cite.document_id, cite.version);
    const clause = findClause(doc, cite);
    if (clause) {
      box.append(el("p", { class: "clause-label", text: `${pathText(clause.path)}${clause.heading ? "　" + clause.heading : ""}` }));
      box.append(quoteMarked(clause.text, cite.quote));
    } else {
      box.append(el("p", { class: "muted", text: cite.path && cite.path.length ? "未找到这一条的原文，以下为引用的文字：" : "引用的是文件本身：" }));
      box.append(el("p", { class: "clause-text", text: cite.quote }));
    }
    const v = validity(doc);
    box.append(el("p", { class: "doc-version" },
      `出自《${doc.title || doc.source_file}》`, doc.doc_number ? `（${doc.doc_number}）` : "",
      `，第 ${doc.version} 版，文件 ${doc.source_file}，`, el("span", { class: `badge validity ${v.cls}`, text: v.text }),
      doc.effective_from ? `，${doc.effective_from}起施行` : "",
      doc.issued_on ? `，${doc.issued_on}印发` : ""));
    if (cite.corrected) {
      const c = cite.corrected;
      box.append(el("p", { class: "corrected" }, el("span", { class: "badge corrected", text: "校正" }),
        ` 工作人员${c.by || ""}${c.at ? "于" + String(c.at).slice(0, 10) : ""}校正：${c.why || ""}`));
    }
    return box;
  }

  function quoteMarked(text, quote) {
    const p = el("p", { class: "clause-text" });
    const i = quote ? text.indexOf(quote) : -1;
    if (i < 0) { p.textContent = text; return p; }
    append(p, [text.slice(0, i), el("mark", { text: quote }), text.slice(i + quote.length)]);
    return p;
  }

  /** A citation as a <details>: the summary names the clause, opening it shows the clause's full text. */
  function citationDetails(cite) {
    const body = el("div", { class: "citation-body" }, el("p", { class: "muted", text: "正在载入条款原文……" }));
    const details = el("details", { class: "citation" },
      el("summary", {}, el("span", { class: "cite-label", text: `依据：${citeLabel(cite)}` }),
        cite.corrected ? el("span", { class: "badge corrected", text: "校正" }) : null),
      body);
    let loaded = false;
    details.addEventListener("toggle", async () => {
      if (!details.open || loaded) return;
      loaded = true;
      try {
        clear(body).append(await clauseView(cite));
      } catch (e) {
        loaded = false;
        clear(body).append(el("p", { class: "error", text: e.message }));
      }
    });
    return details;
  }

  async function openClauseDialog(cite, opener) {
    const dlg = $("clause-dialog");
    $("clause-dialog-h").textContent = citeLabel(cite);
    const body = clear($("clause-dialog-body"));
    body.append(el("p", { class: "muted", text: "正在载入条款原文……" }));
    dlg.returnFocus = opener;
    if (!dlg.open) dlg.showModal();
    try { clear(body).append(await clauseView(cite)); } catch (e) { clear(body).append(el("p", { class: "error", text: e.message })); }
  }

  function citeButton(row) {
    const cite = { document_id: row.document_id, source_file: row.source_file, title: row.title, path: row.path,
                   quote: row.text, corrected: row.corrected };
    return el("button", { type: "button", class: "link cite-button", onclick: (e) => openClauseDialog(cite, e.currentTarget) },
      `《${shortTitle(row.title)}》${pathText(row.path) || "（全文）"}`);
  }

  // ---- chat: one reply --------------------------------------------------------------------------------

  /** The reply text in its parts: what was understood, the verdict, the body, notes and the questions. */
  function splitReply(text) {
    const lines = (text || "").split("\n");
    const out = { understood: [], verdict: null, body: [], notes: [], asks: [] };
    let mode = "body";
    for (const line of lines) {
      if (line.startsWith("我理解的情况：")) { mode = "understood"; continue; }
      if (line.startsWith("还需要您补充：")) { mode = "asks"; continue; }
      if (mode === "understood" && line.startsWith("· ")) { out.understood.push(line.slice(2)); continue; }
      if (mode === "asks" && line.startsWith("· ")) { out.asks.push(line.slice(2)); continue; }
      mode = "body";
      if (!out.verdict && line.startsWith("结论：")) out.verdict = line;
      else if (line.startsWith("说明：")) out.notes.push(line);
      else if (line.trim()) out.body.push(line);
    }
    return out;
  }

  /** The measures a reply says apply, with their rule's document (only those the reply cites). */
  function applyingMeasures(reply) {
    const cited = new Set((reply.citations || []).map(citeKey));
    const out = [];
    for (const r of reply.results || []) {
      if (r.status !== "applies") continue;
      for (const m of r.measures || []) {
        if (m.citation && cited.has(citeKey(m.citation))) {
          out.push({ ...m, document_id: r.document_id, document_title: r.document_title,
                     document_version: r.document_version, validity_notes: r.validity_notes || [] });
        }
      }
    }
    return out;
  }

  function measureGroups(measures) {
    const docs = new Map();
    for (const m of measures) {
      const key = m.document_id;
      if (!docs.has(key)) docs.set(key, { title: m.document_title, notes: m.validity_notes, items: [] });
      docs.get(key).items.push(m);
    }
    return [...docs.values()];
  }

  function followUpKind(q, isLast) {
    const key = q.key || "";
    const yesno = (yes, no) => (isLast ? { type: "yesno", yes, no } : { type: "open" });
    if (q.field === "attested") return isLast ? { type: "yesno", yes: "是", no: "否" } : { type: "attest" };
    if (key.startsWith("event:")) return yesno("有", "没有");
    if (key.startsWith("event_field:")) {
      const d = state.schema && state.schema.event_fields[key.split(":")[2]];
      return d && d.type === "boolean" ? yesno("是", "不是") : { type: "open" };
    }
    const d = factDecl(q.field);
    if (d.type === "boolean") return isLast ? { type: "yesno", yes: "是", no: "否" } : { type: "fact-bool" };
    if (d.type === "choice") return { type: "choice", decl: d };
    return { type: "open" };
  }

  function followUps(reply) {
    const qs = reply.question_details || [];
    if (!qs.length) return null;
    const list = el("ul", { class: "followups" });
    qs.forEach((q, i) => {
      const kind = followUpKind(q, i === qs.length - 1);
      const buttons = el("div", { class: "answer-buttons", role: "group", "aria-label": `回答：${q.question}` });
      const say = (text) => () => send(text);
      if (kind.type === "yesno") {
        buttons.append(el("button", { type: "button", onclick: say(kind.yes) }, kind.yes),
                       el("button", { type: "button", onclick: say(kind.no) }, kind.no));
      } else if (kind.type === "choice") {
        for (const c of kind.decl.choices || []) {
          const label = choiceLabel(kind.decl, c);
          const text = typeof kind.decl.said === "string" ? kind.decl.said.replace("{}", label) : label;
          buttons.append(el("button", { type: "button", onclick: say(text) }, label));
        }
      } else if (kind.type === "attest" || kind.type === "fact-bool") {
        const set = (yes) => () => {
          const facts = { ...state.facts };
          if (kind.type === "attest") facts.attested = { ...(facts.attested || {}), [q.key]: yes };
          else facts[q.field] = yes;
          updateFacts(facts, `${q.question}　${yes ? "是" : "否"}`);
        };
        buttons.append(el("button", { type: "button", onclick: set(true) }, "是"),
                       el("button", { type: "button", onclick: set(false) }, "否"));
      } else {
        buttons.append(el("button", { type: "button", onclick: () => {
          const input = $("ask-input");
          input.placeholder = q.question;
          input.focus();
        } }, "在输入框中回答"));
      }
      list.append(el("li", {}, el("p", { class: "question", text: q.question }),
        q.why ? el("p", { class: "why", text: q.why }) : null, buttons,
        q.citation ? citationDetails(q.citation) : null));
    });
    return el("div", { class: "block" }, el("h3", { text: "还需要您补充" }), list);
  }

  function renderReply(reply, options = {}) {
    const parts = splitReply(reply.reply);
    const card = el("article", { class: "turn assistant", "aria-label": "答复" });
    if (options.note) card.append(el("p", { class: "turn-note", text: options.note }));
    card.append(el("p", { class: "verdict", text: parts.verdict || parts.body[0] || "（没有答复）" }));
    const measures = applyingMeasures(reply);
    const shown = new Set();
    if (measures.length) {
      for (const g of measureGroups(measures)) {
        const kinds = [...new Set(g.items.map((m) => KIND[m.kind] || "其他"))].join("、");
        const section = el("section", { class: "block" },
          el("h3", { text: `《${g.title}》适用的${kinds}措施（${g.items.length} 项）` }));
        const byDept = new Map();
        for (const m of g.items) {
          const dept = (m.departments || []).join("、") || "文件未写明";
          if (!byDept.has(dept)) byDept.set(dept, []);
          byDept.get(dept).push(m);
        }
        for (const [dept, items] of byDept) {
          const list = el("ol", { class: "measures" });
          for (const m of items) {
            shown.add(citeKey(m.citation));
            list.append(el("li", { class: "measure", dataset: { departments: dept } },
              el("p", { class: "measure-text" }, el("span", { class: `badge kind ${m.kind}`, text: KIND[m.kind] || "其他" }), " ", m.text,
                el("span", { class: "sr-only", text: `（实施部门：${dept}）` })),
              citationDetails(m.citation)));
          }
          section.append(el("div", { class: "dept-group" },
            el("p", { class: "departments" }, el("span", { class: "dept-label", text: "实施部门：" }), dept), list));
        }
        card.append(section);
      }
    } else {
      const body = parts.verdict ? parts.body : parts.body.slice(1);
      if (body.length) card.append(el("div", { class: "reply-body" }, body.map((line) => el("p", { text: line }))));
    }
    for (const n of parts.notes) card.append(el("p", { class: "note", text: n }));
    const fu = followUps(reply);
    if (fu) {
      card.append(fu);
      for (const q of reply.question_details) shown.add(citeKey(q.citation));
    } else if (parts.asks.length) {
      card.append(el("div", { class: "block" }, el("h3", { text: "还需要您补充" }),
        el("ul", { class: "followups" }, parts.asks.map((a) => el("li", { text: a })))));
    }
    const others = (reply.citations || []).filter((c) => !shown.has(citeKey(c)));
    if (others.length) {
      card.append(el("section", { class: "block" }, el("h3", { text: measures.length ? "其他依据条款" : "依据条款" }),
        el("ul", { class: "citations" }, others.map((c) => el("li", {}, citationDetails(c))))));
    }
    if (measures.length || parts.understood.length) {
      card.append(el("details", { class: "full-reply" }, el("summary", { text: "答复全文" }),
        el("div", { class: "reply-text" }, (reply.reply || "").split("\n").map((l) => el("p", { text: l })))));
    }
    return card;
  }

  function userTurn(text, note) {
    return el("div", { class: `turn user${note ? " correction" : ""}`, "aria-label": note ? "更正情况" : "您的问题" },
      el("p", { text: text }));
  }

  function addToLog(...nodes) {
    const log = $("log");
    if (nodes.some((n) => n.classList && n.classList.contains("assistant"))) {
      // a new answer: the buttons of earlier questions would answer the question asked now, so they go
      log.querySelectorAll(".answer-buttons").forEach((g) => { g.classList.add("stale"); g.hidden = true; });
    }
    const welcome = $("welcome");
    if (welcome) welcome.remove();
    log.append(...nodes);
    nodes[nodes.length - 1].scrollIntoView({ block: "nearest" });
  }

  // ---- chat: sending, correcting, restoring ---------------------------------------------------------

  function setBusy(busy, text) {
    state.busy = busy;
    $("ask-send").disabled = busy;
    document.querySelectorAll(".facts input, .facts select, .facts button, .answer-buttons:not(.stale) button")
      .forEach((n) => { n.disabled = busy; });
    setStatus("chat-status", text || "");
  }

  function remember(reply) {
    state.sessionId = reply.session_id;
    try { localStorage.setItem(SESSION_KEY, reply.session_id); } catch (e) { /* not kept */ }
    writeJSON(LAST_KEY, { session_id: reply.session_id, reply });
    const att = readJSON(ATTESTED_KEY, {});
    for (const q of reply.question_details || []) if (q.field === "attested" && q.key) att[q.key] = q.question.replace(/^贵单位是否/, "").replace(/？$/, "");
    writeJSON(ATTESTED_KEY, att);
    state.facts = reply.facts || {};
    renderFacts();
  }

  async function send(message) {
    const text = (message || "").trim();
    if (!text || state.busy) return;
    addToLog(userTurn(text));
    setBusy(true, "正在查找相关条款……");
    try {
      const body = { message: text };
      if (state.sessionId) body.session_id = state.sessionId;
      if (state.asOf) body.as_of = state.asOf;
      const reply = await api("/v1/chat", { method: "POST", json: body });
      addToLog(renderReply(reply));
      remember(reply);
      setBusy(false, "已答复。");
    } catch (e) {
      setBusy(false, e.status === 404 ? "这次对话已不存在，请重新提问（将开始新对话）。" : e.message);
      $("chat-status").classList.add("error");
      if (e.status === 404) { forgetSession(); renderFacts(); }  // the server forgot it: the next message starts anew
    }
  }

  async function updateFacts(facts, what) {
    if (!state.sessionId || state.busy) return;
    addToLog(userTurn(`更正情况：${what}`, true));
    setBusy(true, "正在按更正后的情况重新判断……");
    try {
      const body = { facts };
      if (state.asOf) body.as_of = state.asOf;
      const reply = await api(`/v1/sessions/${encodeURIComponent(state.sessionId)}/facts`, { method: "PUT", json: body });
      addToLog(renderReply(reply, { note: "按更正后的情况：" }));
      remember(reply);
      setBusy(false, "已按更正后的情况重新答复。");
    } catch (e) {
      setBusy(false, e.message);
      $("chat-status").classList.add("error");
      if (e.status === 404) forgetSession();
      renderFacts();
    }
  }

  function forgetSession() {
    state.sessionId = null;
    state.facts = {};
    try { localStorage.removeItem(SESSION_KEY); localStorage.removeItem(LAST_KEY); } catch (e) { /* nothing kept */ }
  }

  function newConversation() {
    forgetSession();
    clear($("log")).append(el("div", { class: "welcome", id: "welcome" },
      el("p", { text: "已开始新对话。请描述贵单位的情况并提问。" })));
    renderFacts();
    setStatus("chat-status", "已开始新对话。");
    $("ask-input").value = "";
    $("ask-input").focus();
  }

  async function restore() {
    let id = null;
    try { id = localStorage.getItem(SESSION_KEY); } catch (e) { id = null; }
    if (!id) return;
    try {
      const s = await api(`/v1/sessions/${encodeURIComponent(id)}`);
      state.sessionId = s.session_id;
      state.facts = s.facts || {};
      const last = readJSON(LAST_KEY, null);
      const nodes = [];
      s.turns.forEach((t, i) => {
        const correction = t.message === RERUN_MESSAGE;
        nodes.push(userTurn(correction ? "更正情况" : t.message, correction));
        const rich = i === s.turns.length - 1 && last && last.session_id === s.session_id && last.reply.reply === t.reply;
        nodes.push(renderReply(rich ? last.reply : { reply: t.reply, question_details: [], citations: [], results: [] },
          correction ? { note: "按更正后的情况：" } : {}));
      });
      if (nodes.length) addToLog(...nodes);
      renderFacts();
      setStatus("chat-status", `已恢复上次的对话（${s.turns.length} 轮）。`);
    } catch (e) {
      if (e.status === 404) forgetSession();
      setStatus("chat-status", e.status === 404 ? "上次的对话已不存在，请重新提问。" : e.message, e.status !== 404);
    }
  }

  // ---- the facts panel --------------------------------------------------------------------------------

  const EDITABLE = new Set(["string", "string_list", "count", "choice", "boolean", "date"]);

  const YES_NO = { type: "boolean", label: "是否" };

  function control(key, value, id, decl) {
    const d = decl || factDecl(key);
    if (d.type === "choice" || d.type === "boolean") {
      const choices = d.type === "boolean" ? [true, false] : d.choices;
      const sel = el("select", { id }, choices.map((c, i) =>
        el("option", { value: String(i), selected: value === c }, d.type === "boolean" ? (c ? "是" : "否") : choiceLabel(d, c))));
      sel.readValue = () => choices[Number(sel.value)];
      return sel;
    }
    const type = d.type === "count" ? "number" : d.type === "date" ? "date" : "text";
    const input = el("input", { id, type, min: d.type === "count" ? "0" : null, step: d.type === "count" ? "1" : null,
      inputmode: d.type === "count" ? "numeric" : null, autocomplete: "off" });
    input.value = value === undefined || value === null ? "" : (Array.isArray(value) ? value.join("、") : String(value));
    input.readValue = () => {
      const raw = input.value.trim();
      if (!raw) return undefined;
      if (d.type === "count") { const n = Number(raw); return Number.isInteger(n) && n >= 0 ? n : NaN; }
      if (d.type === "string_list") return raw.split(/[、，,；;\s]+/).filter(Boolean);
      return raw;
    };
    return input;
  }

  function factItem(labelText, controlNode, onRemove, removeLabel) {
    const li = el("li", { class: "fact" });
    if (controlNode) {
      li.append(el("label", { for: controlNode.id, text: labelText }), el("div", { class: "fact-row" }, controlNode,
        el("button", { type: "button", class: "remove", "aria-label": `删除：${removeLabel || labelText}`, onclick: onRemove }, "删除")));
    } else {
      li.append(el("div", { class: "fact-row" }, el("span", { class: "fact-text", text: labelText }),
        el("button", { type: "button", class: "remove", "aria-label": `删除：${removeLabel || labelText}`, onclick: onRemove }, "删除")));
    }
    return li;
  }

  function renderFacts() {
    const list = clear($("facts-list"));
    const facts = state.facts || {};
    const keys = Object.keys(facts);
    $("facts-empty").hidden = keys.length > 0;
    $("add-fact").hidden = !state.sessionId || !state.schema;
    if (!state.schema) return;
    const order = Object.keys(state.schema.facts).filter((k) => k in facts);
    for (const key of order) {
      const d = factDecl(key);
      const value = facts[key];
      if (key === "events" || key === "attested") continue;
      if (!EDITABLE.has(d.type)) continue;
      const ctl = control(key, value, `fact-${key}`);
      ctl.addEventListener("change", () => {
        const v = ctl.readValue();
        if (Number.isNaN(v)) { setStatus("chat-status", `${d.label}需要是不小于 0 的整数。`, true); return; }
        const next = { ...state.facts };
        if (v === undefined) delete next[key]; else next[key] = v;
        updateFacts(next, v === undefined ? `删除“${d.label}”` : `${d.label}改为${showValue(key, v)}`);
      });
      list.append(factItem(d.label, ctl, () => {
        const next = { ...state.facts };
        delete next[key];
        updateFacts(next, `删除“${d.label}”`);
      }));
    }
    (facts.events || []).forEach((ev, i) => {
      const text = eventFactText(ev);
      list.append(factItem(text, null, () => {
        const next = { ...state.facts, events: state.facts.events.filter((_, j) => j !== i) };
        updateFacts(next, `删除“${text}”`);
      }));
    });
    (facts.absent_events || []).forEach((a, i) => {
      const text = denialText(a);
      list.append(factItem(text, null, () => {
        const next = { ...state.facts, absent_events: state.facts.absent_events.filter((_, j) => j !== i) };
        updateFacts(next, `删除“${text}”`);
      }));
    });
    const texts = readJSON(ATTESTED_KEY, {});
    Object.entries(facts.attested || {}).forEach(([k, yes], i) => {
      const label = `确认：${texts[k] || "条款所述情形"}`;
      const sel = control(null, yes, `fact-attested-${i}`, YES_NO);
      sel.addEventListener("change", () => {
        const v = sel.readValue();
        updateFacts({ ...state.facts, attested: { ...state.facts.attested, [k]: v } }, `${label}：${v ? "是" : "否"}`);
      });
      list.append(factItem(label, sel, () => {
        const att = { ...state.facts.attested };
        delete att[k];
        updateFacts({ ...state.facts, attested: att }, `删除“${label}”`);
      }));
    });
    renderAddFact();
  }

  function renderAddFact() {
    const sel = clear($("add-fact-key"));
    const missing = Object.entries(state.schema.facts)
      .filter(([k, d]) => !(k in state.facts) && EDITABLE.has(d.type) && d.question);
    sel.append(el("option", { value: "", text: "请选择" }), ...missing.map(([k, d]) => el("option", { value: k, text: d.label })));
    clear($("add-fact-value"));
  }

  function onAddFactKey() {
    const key = $("add-fact-key").value;
    const box = clear($("add-fact-value"));
    if (!key) return;
    const d = factDecl(key);
    const ctl = control(key, d.type === "boolean" ? true : (d.choices || [])[0], "add-fact-input");
    box.append(el("label", { for: "add-fact-input", text: d.label }), ctl);
  }

  function onAddFact(e) {
    e.preventDefault();
    const key = $("add-fact-key").value;
    const ctl = $("add-fact-input");
    if (!key || !ctl) return;
    const v = ctl.readValue();
    if (v === undefined || Number.isNaN(v)) { setStatus("chat-status", "请填写这一项的内容。", true); return; }
    updateFacts({ ...state.facts, [key]: v }, `补充“${factDecl(key).label}”：${showValue(key, v)}`);
  }

  // ---- documents view ---------------------------------------------------------------------------------

  async function documentsList() {
    if (!state.documents) state.documents = await api("/v1/documents");
    return state.documents;
  }

  async function showDocuments(docId) {
    const list = $("doc-list");
    const detail = $("doc-detail");
    setStatus("documents-status", "正在载入……");
    try {
      const docs = await documentsList();
      if (!docId) {
        detail.hidden = true;
        list.hidden = false;
        clear(list).append(el("ul", { class: "doc-cards" }, docs.map((d) => el("li", { class: "doc-card" },
          el("h2", {}, el("a", { href: `#documents/${encodeURIComponent(d.id)}`, text: d.title || d.source_file })),
          el("p", { class: "meta" }, validityBadge(d), " ", [d.doc_number, d.issuer, d.jurisdiction].filter(Boolean).join(" · ")),
          el("p", { class: "meta muted" }, [d.issued_on ? `${d.issued_on}印发` : "印发日期未写明",
            d.effective_from ? `${d.effective_from}起施行` : "施行日期未写明", `第 ${d.version} 版`].join("；"))))));
        setStatus("documents-status", `共 ${docs.length} 份文件。`);
        return;
      }
      list.hidden = true;
      detail.hidden = false;
      const params = new URLSearchParams(location.hash.split("?")[1] || "");
      await renderDocument(docId, params.get("version"));
      setStatus("documents-status", "");
    } catch (e) {
      setStatus("documents-status", e.message, true);
    }
  }

  async function renderDocument(docId, version) {
    const detail = clear($("doc-detail"));
    const [doc, versions] = await Promise.all([loadDocument(docId, version), api(`/v1/documents/${encodeURIComponent(docId)}/versions`)]);
    const byClause = new Map();
    const add = (cid, kind, item) => {
      if (!byClause.has(cid)) byClause.set(cid, { measures: [], conditions: [] });
      byClause.get(cid)[kind].push(item);
    };
    for (const m of doc.measures || []) add(m.clause_id, "measures", m);
    for (const c of doc.conditions || []) add(c.clause_id, "conditions", c);

    detail.append(el("p", {}, el("a", { href: "#documents", class: "back", text: "← 返回文件列表" })));
    detail.append(el("h2", { id: "doc-title", tabindex: "-1", text: doc.title || doc.source_file }));
    const dl = el("dl", { class: "doc-meta" });
    const row = (k, v) => { if (v) dl.append(el("dt", { text: k }), el("dd", {}, v)); };
    row("有效性", validityBadge(doc));
    row("文号", doc.doc_number);
    row("发布机关", doc.issuer);
    row("适用地区", doc.jurisdiction);
    row("印发日期", doc.issued_on || "未写明");
    row("施行日期", doc.effective_from || "未写明");
    row("有效期至", doc.expires);
    row("被替代日期", doc.superseded_on);
    row("版本", `第 ${doc.version} 版（共 ${versions.length} 版）`);
    row("来源文件", doc.source_file);
    row("抽取结果", `${flatClauses(doc.clauses).length} 个条款，${(doc.measures || []).length} 项措施，${(doc.conditions || []).length} 个条件，${(doc.rules || []).length} 条规则`);
    detail.append(dl);
    if ((doc.warnings || []).length) {
      detail.append(el("details", { class: "warnings" }, el("summary", { text: `读取时的提示（${doc.warnings.length} 条）` }),
        el("ul", {}, doc.warnings.map((w) => el("li", { text: w })))));
    }
    if (versions.length > 1) {
      const table = el("table", { class: "list-table versions" }, el("caption", { text: "各版本" }),
        el("thead", {}, el("tr", {}, ["版本", "来源文件", "施行日期", "被替代日期", "有效性"].map((h) => el("th", { scope: "col", text: h })))),
        el("tbody", {}, versions.map((v) => el("tr", {},
          el("td", { "data-label": "版本" }, el("a", { href: `#documents/${encodeURIComponent(docId)}?version=${v.version}`, text: `第 ${v.version} 版` })),
          el("td", { "data-label": "来源文件", text: v.source_file }), el("td", { "data-label": "施行日期", text: v.effective_from || "未写明" }),
          el("td", { "data-label": "被替代日期", text: v.superseded_on || "—" }), el("td", { "data-label": "有效性" }, validityBadge(v))))));
      detail.append(el("div", { class: "table-wrap" }, table));
    }
    const tree = el("ol", { class: "clause-tree", "aria-label": "条款结构" }, doc.clauses.map((c) => clauseNode(c, byClause)));
    detail.append(el("div", { class: "tree-head" }, el("h3", { text: "条款结构" }),
      el("button", { type: "button", onclick: () => tree.querySelectorAll("details").forEach((d) => { d.open = true; }) }, "全部展开"),
      el("button", { type: "button", onclick: () => tree.querySelectorAll("details").forEach((d) => { d.open = false; }) }, "全部收起")),
      tree);
    $("doc-title").focus();
  }

  function clauseNode(c, byClause) {
    const found = byClause.get(c.id) || { measures: [], conditions: [] };
    const count = found.measures.length + found.conditions.length;
    const label = c.label || pathText(c.path);
    let heading = c.heading && c.heading !== c.label ? c.heading : "";
    if (!heading) {  // no heading: the start of the clause's own words
      const words = c.text.replace(label, "").replace(/^[\s【】]+/, "").trim();
      heading = words.length > 36 ? words.slice(0, 36) + "……" : words;
    }
    const counts = [found.measures.length && `${found.measures.length} 项措施`, found.conditions.length && `${found.conditions.length} 个条件`]
      .filter(Boolean).join(" · ");
    const summary = el("summary", {}, el("span", { class: "clause-label", text: label }),
      heading ? el("span", { class: "clause-heading", text: heading }) : null,
      counts ? el("span", { class: "badge count", text: counts }) : null);
    const body = el("div", { class: "clause-body" }, el("p", { class: "clause-text", text: c.text }));
    if (count) {
      const ul = el("ul", { class: "extracted", "aria-label": "从这一条抽取的内容" });
      for (const m of found.measures) {
        ul.append(el("li", { class: "extracted-measure" }, el("span", { class: `badge kind ${m.kind}`, text: `${KIND[m.kind] || "其他"}措施` }), " ",
          m.text, el("span", { class: "departments" }, "　实施部门：", (m.departments || []).join("、") || "未写明"),
          m.corrected ? el("span", { class: "badge corrected", text: "校正" }) : null));
      }
      for (const k of found.conditions) {
        ul.append(el("li", { class: "extracted-condition" }, el("span", { class: "badge role", text: ROLE[k.role] || k.role }), " ",
          k.text, el("div", { class: "predicate" }, el("span", { class: "muted", text: "判断：" }), predicateNode(k.predicate))));
      }
      body.append(ul);
    }
    if ((c.children || []).length) body.append(el("ol", { class: "clause-tree" }, c.children.map((x) => clauseNode(x, byClause))));
    return el("li", {}, el("details", { class: "clause", dataset: { path: pathText(c.path) } }, summary, body));
  }

  // ---- 措施清单 ---------------------------------------------------------------------------------------

  function fillDocSelect(select, docs) {
    const keep = select.value;
    clear(select).append(el("option", { value: "", text: "全部文件" }),
      ...docs.map((d) => el("option", { value: d.id, text: shortTitle(d.title || d.source_file) })));
    select.value = keep;
  }

  async function showMeasures() {
    try {
      const docs = await documentsList();
      if (!$("measure-doc").options[1]) fillDocSelect($("measure-doc"), docs);
      if (!state.allMeasures) {
        state.allMeasures = await api("/v1/measures");
        const names = new Set();
        for (const m of state.allMeasures) for (const d of m.department_ids || []) names.add(d);
        clear($("dept-options")).append(...[...names].sort().map((n) => el("option", { value: n })));
      }
      await filterMeasures();
    } catch (e) {
      setStatus("measures-status", e.message, true);
    }
  }

  async function filterMeasures(e) {
    if (e) e.preventDefault();
    const dept = $("measure-dept").value.trim();
    const kind = $("measure-kind").value;
    const doc = $("measure-doc").value;
    const q = new URLSearchParams();
    if (dept) q.set("department", dept);
    if (kind) q.set("kind", kind);
    setStatus("measures-status", "正在筛选……");
    try {
      const rows = (await api(`/v1/measures${q.toString() ? "?" + q : ""}`)).filter((m) => !doc || m.document_id === doc);
      state.measures = rows;
      const body = clear(document.querySelector("#measure-table tbody"));
      body.append(...rows.map((m) => el("tr", {},
        el("td", { "data-label": "措施", text: m.text }),
        el("td", { "data-label": "类别" }, el("span", { class: `badge kind ${m.kind}`, text: KIND[m.kind] || "其他" })),
        el("td", { "data-label": "实施部门", class: "departments", text: (m.departments || []).join("、") || "未写明" }),
        el("td", { "data-label": "依据" }, citeButton(m)))));
      const what = [dept && `实施部门“${dept}”`, kind && KIND[kind], doc && "所选文件"].filter(Boolean).join("、");
      setStatus("measures-status", `${what ? "按" + what + "筛选，" : ""}共 ${rows.length} 项措施。`);
    } catch (err) {
      setStatus("measures-status", err.message, true);
    }
  }

  function csvCell(v) {
    const s = String(v == null ? "" : v);
    return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  }

  function exportCSV() {
    const rows = [["事项", "实施部门", "措施", "依据条款"]].concat(state.measures.map((m) =>
      [m.title || "", (m.departments || []).join("、"), m.text, `《${m.title || ""}》${pathText(m.path)}`]));
    const text = "\ufeff" + rows.map((r) => r.map(csvCell).join(",")).join("\n") + "\n";
    const url = URL.createObjectURL(new Blob([text], { type: "text/csv;charset=utf-8" }));
    const dept = $("measure-dept").value.trim();
    const a = el("a", { href: url, download: `措施清单${dept ? "_" + dept.replace(/[\\/:*?"<>|]/g, "") : ""}.csv`, hidden: true });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
    setStatus("measures-status", `已导出 ${state.measures.length} 项措施（CSV）。`);
  }

  // ---- 行为清单 ---------------------------------------------------------------------------------------

  async function showConditions() {
    try {
      const docs = await documentsList();
      if (!$("condition-doc").options[1]) fillDocSelect($("condition-doc"), docs);
      if (!state.conditions) state.conditions = await api("/v1/conditions");
      filterConditions();
    } catch (e) {
      setStatus("conditions-status", e.message, true);
    }
  }

  function filterConditions() {
    const role = $("condition-role").value;
    const doc = $("condition-doc").value;
    const rows = state.conditions.filter((c) => (!role || c.role === role) && (!doc || c.document_id === doc));
    clear(document.querySelector("#condition-table tbody")).append(...rows.map((c) => el("tr", {},
      el("td", { "data-label": "情形", text: c.text }),
      el("td", { "data-label": "类别" }, el("span", { class: "badge role", text: ROLE[c.role] || c.role })),
      el("td", { "data-label": "如何判断" }, predicateNode(c.predicate)),
      el("td", { "data-label": "依据" }, citeButton(c)))));
    setStatus("conditions-status", `共 ${rows.length} 个条件。`);
  }

  // ---- staff (read-only) ------------------------------------------------------------------------------

  let staffLoaded = false;

  async function showStaff() {
    if (staffLoaded) return;
    staffLoaded = true;
    await showUploads();
    setStatus("review-status", "正在载入……");
    try {
      const items = await api("/v1/review");
      clear(document.querySelector("#review-table tbody")).append(...items.map((r) => el("tr", {},
        el("td", { "data-label": "问题" }, el("span", { class: `badge sev${r.severity >= 70 ? " high" : ""}`, text: REVIEW_KIND[r.kind] || r.kind })),
        el("td", { "data-label": "文件", text: shortTitle(r.title || r.source_file) }),
        el("td", { "data-label": "位置", text: r.where }),
        el("td", { "data-label": "说明", text: r.reason }))));
      setStatus("review-status", items.length ? `共 ${items.length} 项，最需要处理的在前。` : "没有待复核的事项。");
    } catch (e) {
      staffLoaded = false;
      setStatus("review-status", e.message, true);
    }
    try {
      const docs = await documentsList();
      const withVersions = [];
      for (const d of docs) {
        const vs = await api(`/v1/documents/${encodeURIComponent(d.id)}/versions`);
        if (vs.length > 1) withVersions.push({ doc: d, versions: vs });
      }
      if (!withVersions.length) {
        setStatus("diff-status", "目前每份文件都只有一个版本，没有可对比的修订。");
        return;
      }
      const sel = clear($("diff-doc"));
      sel.append(...withVersions.map((w) => el("option", { value: w.doc.id, text: shortTitle(w.doc.title) })));
      const fillVersions = () => {
        const w = withVersions.find((x) => x.doc.id === sel.value);
        const opts = (selected) => w.versions.map((v) => el("option", { value: String(v.version), selected: v.version === selected, text: `第 ${v.version} 版` }));
        clear($("diff-from")).append(...opts(w.versions[w.versions.length - 2].version));
        clear($("diff-to")).append(...opts(w.versions[w.versions.length - 1].version));
      };
      sel.onchange = fillVersions;  // once, also when the view is refreshed after an upload
      fillVersions();
      $("diff-form").hidden = false;
      setStatus("diff-status", `${withVersions.length} 份文件有多个版本。`);
      await showDiff();
    } catch (e) {
      setStatus("diff-status", e.message, true);
    }
  }

  async function showDiff(e) {
    if (e) e.preventDefault();
    const out = clear($("diff-result"));
    try {
      const q = new URLSearchParams({ from: $("diff-from").value, to: $("diff-to").value });
      const d = await api(`/v1/documents/${encodeURIComponent($("diff-doc").value)}/diff?${q}`);
      out.append(el("p", { class: "diff-summary" }, el("strong", { text: "变化：" }), d.summary));
      out.append(el("p", { class: "muted", text: `第 ${d.from.version} 版（${d.from.source_file}）→ 第 ${d.to.version} 版（${d.to.source_file}）` }));
      const section = (title, part, textOf) => {
        if (!part) return;
        const items = [];
        for (const x of part.added || []) items.push(el("li", { class: "added" }, el("span", { class: "badge", text: "新增" }), ` ${x.where || ""} `, textOf(x)));
        for (const x of part.removed || []) items.push(el("li", { class: "removed" }, el("span", { class: "badge", text: "删除" }), ` ${x.where || ""} `, textOf(x)));
        for (const x of part.changed || []) {
          items.push(el("li", { class: "changed" }, el("span", { class: "badge", text: "修改" }), ` ${x.new.where || x.old.where || ""}`,
            el("p", { class: "old" }, el("span", { class: "muted", text: "原：" }), textOf(x.old)),
            el("p", { class: "new" }, el("span", { class: "muted", text: "新：" }), textOf(x.new))));
        }
        if (items.length) out.append(el("h3", { text: title }), el("ul", { class: "diff-list" }, items));
      };
      section("条款", d.clauses, (x) => x.text || "");
      section("措施", d.measures, (x) => x.text || "");
      section("条件", d.conditions, (x) => x.text || "");
    } catch (err) {
      out.append(el("p", { class: "error", text: err.message }));
    }
  }

  // ---- staff uploads (only when the server allows them) ------------------------------------------------

  let capabilities = null;

  async function showUploads() {
    if (!capabilities) {
      try { capabilities = await api("/v1/capabilities"); } catch (e) { capabilities = { uploads: false }; }
    }
    if (!capabilities.uploads) return;
    $("staff-mode").textContent = "本服务允许工作人员凭令牌上传文件入库；上传的文件会立即用于咨询和清单。";
    $("upload-panel").hidden = false;
    if (!$("upload-token").value) {
      try { $("upload-token").value = sessionStorage.getItem(TOKEN_KEY) || ""; } catch (e) { /* storage off */ }
    }
    await renderStaffDocs();
  }

  async function renderStaffDocs() {
    try {
      const docs = await documentsList();
      clear($("staff-docs")).append(...docs.map((d) => el("li", { dataset: { id: d.id } },
        el("a", { href: `#documents/${encodeURIComponent(d.id)}`, text: shortTitle(d.title || d.source_file) }),
        el("span", { class: "muted", text: `（${d.source_file}，第 ${d.version} 版）` }))));
      $("staff-docs-h").textContent = `知识库中的文件（共 ${docs.length} 份）`;
    } catch (e) {
      setStatus("upload-status", e.message, true);
    }
  }

  /** A reader's or the server's reason for refusing a file, in Chinese (the original kept as detail). */
  function refusalText(reason) {
    const r = String(reason || "");
    if (/%PDF/.test(r)) return "这不是 PDF 文件";
    if (/not a \.docx file|zip/.test(r)) return "这不是 .docx 文件";
    if (/unsupported file type/.test(r)) return "不支持这种文件类型（只收 .txt .html .docx .pdf）";
    if (/content is binary|binary data/.test(r)) return "文件内容不是文字";
    if (/empty/.test(r)) return "文件是空的";
    if (/same name/.test(r)) return "与本次上传的另一个文件同名";
    if (/no usable name/.test(r)) return "文件名不可用";
    if (/larger than|too large|limit/.test(r)) return "文件超出了读取限制";
    return "无法读取这个文件";
  }

  function uploadResultItem(r) {
    const counts = `措施 ${r.measures} 项、条件 ${r.conditions} 项`;
    let text;
    if (r.status === "added") text = `已加入：${r.source_file}，${counts}`;
    else if (r.status === "updated") text = `已更新：${r.source_file}（第 ${r.version} 版），${counts}`;
    else if (r.status === "unchanged") text = `没有变化：${r.source_file} 已在知识库中（第 ${r.version} 版）`;
    else text = `未能读取：${r.source_file || "（无文件名）"}：${refusalText(r.error)}`;
    return el("li", { class: r.status, dataset: { status: r.status } }, text,
      r.status === "refused" && r.error ? el("span", { class: "detail", text: r.error }) : null,
      (r.warnings || []).length ? el("span", { class: "detail", text: `提示：${r.warnings.join("；")}` }) : null);
  }

  const UPLOAD_ERRORS = {
    401: "令牌不正确，请检查后重新输入。", 403: "服务器没有开放上传。", 413: "文件太大，超出了服务器允许的上传大小。",
    415: "文件类型不符", 422: "上传的内容不符合要求。",
  };

  function uploadFiles(e) {
    e.preventDefault();
    const token = $("upload-token").value.trim();
    const files = [...$("upload-files").files];
    if (!token) { setStatus("upload-status", "请先输入工作人员令牌。", true); $("upload-token").focus(); return; }
    if (!files.length) { setStatus("upload-status", "请先选择要上传的文件。", true); $("upload-files").focus(); return; }
    try { sessionStorage.setItem(TOKEN_KEY, token); } catch (err) { /* not kept */ }
    const form = new FormData();
    for (const f of files) form.append("files", f, f.name);
    const bar = $("upload-progress");
    const button = $("upload-button");
    const done = () => { button.disabled = false; bar.hidden = true; $("upload-panel").removeAttribute("aria-busy"); };
    clear($("upload-results"));
    button.disabled = true;
    bar.hidden = false;
    bar.value = 0;
    $("upload-panel").setAttribute("aria-busy", "true");
    setStatus("upload-status", `正在上传 ${files.length} 个文件……`);
    const xhr = new XMLHttpRequest();
    xhr.open("POST", "/v1/documents");
    xhr.setRequestHeader("Authorization", `Bearer ${token}`);
    xhr.setRequestHeader("Accept", "application/json");
    xhr.upload.addEventListener("progress", (ev) => {
      if (!ev.lengthComputable) return;
      const pct = Math.round((ev.loaded / ev.total) * 100);
      bar.value = pct;
      bar.textContent = `${pct}%`;
      setStatus("upload-status", `正在上传……${pct}%`);
    });
    xhr.upload.addEventListener("load", () => {
      bar.removeAttribute("value");  // indeterminate: the server is reading the files
      setStatus("upload-status", "已上传，正在读取和入库……");
    });
    xhr.addEventListener("error", () => { done(); setStatus("upload-status", "无法连接服务器，请稍后再试。", true); });
    xhr.addEventListener("load", async () => {
      done();
      let body = null;
      try { body = JSON.parse(xhr.responseText); } catch (err) { body = null; }
      if (xhr.status !== 200 || !Array.isArray(body)) {
        let text = UPLOAD_ERRORS[xhr.status] || errorText(xhr.status, body);
        if (xhr.status === 415 && body && body.error) {
          text += "：" + String(body.error).split("; ").map((part) => {
            const at = part.indexOf(": ");
            return at > 0 ? `${part.slice(0, at)}（${refusalText(part.slice(at + 2))}）` : refusalText(part);
          }).join("；") + "。";
        }
        setStatus("upload-status", text, true);
        if (xhr.status === 401) $("upload-token").focus();
        return;
      }
      $("upload-results").append(...body.map(uploadResultItem));
      const ok = body.filter((r) => r.status !== "refused").length;
      setStatus("upload-status", `完成：${ok} 个文件入库，${body.length - ok} 个未能读取。`, ok < body.length);
      $("upload-files").value = "";
      // what changed is seen everywhere: the documents, 措施清单, 行为清单, review list and version diff
      state.documents = null; state.allMeasures = null; state.conditions = null; state.docCache.clear();
      staffLoaded = false;
      await showStaff();
    });
    xhr.send(form);
  }

  // ---- views ------------------------------------------------------------------------------------------

  const VIEWS = ["chat", "documents", "measures", "conditions", "staff"];

  function route() {
    const hash = decodeURIComponent(location.hash.replace(/^#/, ""));
    const [head, rest] = hash.split("?")[0].split(/\/(.*)/s);
    const view = VIEWS.includes(head) ? head : "chat";
    for (const v of VIEWS) $(`view-${v}`).hidden = v !== view;
    document.querySelectorAll(".tabs a").forEach((a) => {
      if (a.dataset.view === view) a.setAttribute("aria-current", "page"); else a.removeAttribute("aria-current");
    });
    document.title = `${$(`${view}-h`).textContent} · 信易`;
    if (view === "documents") showDocuments(rest || null);
    else if (view === "measures") showMeasures();
    else if (view === "conditions") showConditions();
    else if (view === "staff") showStaff();
    return view;
  }

  async function init() {
    const params = new URLSearchParams(location.search);
    const asOf = params.get("as_of");
    if (asOf && /^\d{4}-\d{2}-\d{2}$/.test(asOf)) { state.asOf = asOf; $("as-of").value = asOf; }
    $("ask-form").addEventListener("submit", (e) => {
      e.preventDefault();
      const input = $("ask-input");
      const text = input.value;
      if (!text.trim()) { setStatus("chat-status", "请先输入问题。", true); input.focus(); return; }
      input.value = "";
      send(text);
    });
    $("ask-input").addEventListener("keydown", (e) => {
      if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) { e.preventDefault(); $("ask-form").requestSubmit(); }
    });
    $("new-chat").addEventListener("click", newConversation);
    $("add-fact-key").addEventListener("change", onAddFactKey);
    $("add-fact").addEventListener("submit", onAddFact);
    $("as-of").addEventListener("change", () => {
      state.asOf = $("as-of").value;
      state.docCache.clear();
      if (state.sessionId && Object.keys(state.facts).length) updateFacts({ ...state.facts }, `评估日期改为${state.asOf || "今天"}`);
    });
    $("measure-filter").addEventListener("submit", filterMeasures);
    $("measure-kind").addEventListener("change", () => filterMeasures());
    $("measure-doc").addEventListener("change", () => filterMeasures());
    $("measure-reset").addEventListener("click", () => {
      $("measure-dept").value = ""; $("measure-kind").value = ""; $("measure-doc").value = "";
      filterMeasures();
    });
    $("measure-csv").addEventListener("click", exportCSV);
    $("condition-role").addEventListener("change", filterConditions);
    $("condition-doc").addEventListener("change", filterConditions);
    $("condition-filter").addEventListener("submit", (e) => { e.preventDefault(); filterConditions(); });
    $("diff-form").addEventListener("submit", showDiff);
    $("upload-form").addEventListener("submit", uploadFiles);
    $("clause-dialog").addEventListener("close", () => {
      const back = $("clause-dialog").returnFocus;
      if (back && back.isConnected) back.focus();
    });
    window.addEventListener("hashchange", () => {
      const view = route();
      if (!location.hash.includes("/")) { const h = $(`${view}-h`); if (h) h.focus(); }
    });
    route();
    try {
      state.schema = await api("/v1/profile/schema");
    } catch (e) {
      setStatus("chat-status", e.message, true);
    }
    await restore();
    renderFacts();
    document.body.dataset.ready = "true";
  }

  document.addEventListener("DOMContentLoaded", init);
})();
