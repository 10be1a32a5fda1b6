/*
 * The 311 chat widget. One script tag puts it on any page:
 *
 *   <script src="https://311.city.example/static/widget.js" data-rasa-url="https://chat.city.example" defer></script>
 *
 * Options (data attributes of the script tag):
 *   data-rasa-url   the Rasa server residents' browsers can reach (default: this page's host, port 5005)
 *   data-container  the id of an element to show the chat in; without it, a "Chat with 311" button opens a panel
 *   data-title      the chat's heading (default "Chat with 311")
 *
 * It talks to the web chat channel (POST /webhooks/web/webhook), keeps the conversation in this browser across page
 * loads (localStorage), shows the reference number so it can be copied, and needs no framework. Accessibility:
 * the messages are a live log, everything works from the keyboard with visible focus and no trap, targets are at
 * least 44 px, it reflows at 320 px and 200% zoom, every control has a label, and the resident can choose larger
 * text. There are no time limits in the page; the assistant forgets an unfinished report after an hour away, and
 * the widget says so when the resident comes back.
 */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || window.intakeChatWidget) { return; }

  var GREETING = "Hi! Tell me about a problem, a complaint or a compliment, in your own words.";
  var OFFLINE = "Sorry, I can't connect right now. Please try again, or call 311.";
  var WELCOME_BACK = "Welcome back. It has been over an hour, so I may ask about your report again.";
  var IDLE_MS = 60 * 60 * 1000; // the assistant's session expiry (bot/domain/session.yml)
  var REFERENCE = /reference number is ([CPS]-[2-9A-HJKMNP-Z]{7})/;
  var MAX_CHARS = 2000;

  var data = script.dataset;
  var rasaUrl = (data.rasaUrl || (window.location.protocol + "//" + window.location.hostname + ":5005"))
    .replace(/\/+$/, "");
  var endpoint = rasaUrl + "/webhooks/web/webhook";
  // What the assistant says while the resident is not writing (a reference that came late, a staff reply) waits
  // there until the widget asks for it: when it loads, and every half minute while the page is shown.
  var pendingEndpoint = rasaUrl + "/webhooks/web/pending";
  var POLL_MS = 30000;
  var title = data.title || "Chat with 311";
  var container = data.container ? document.getElementById(data.container) : null;
  var floating = !container;
  var storeKey = "intake-chat:" + rasaUrl;
  var ids = "intake-chat-" + Math.random().toString(36).slice(2, 8);

  // ---- State kept in this browser ---------------------------------------------------------------------------
  function newSender() {
    var bytes = new Uint8Array(12);
    window.crypto.getRandomValues(bytes);
    return "web-" + Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }

  function freshState() {
    return { sender: newSender(), messages: [], reference: null, large: false, open: false, lastActive: 0 };
  }

  function load() {
    try {
      var saved = JSON.parse(window.localStorage.getItem(storeKey));
      if (saved && typeof saved.sender === "string" && Array.isArray(saved.messages)) { return saved; }
    } catch (e) { /* private mode or a damaged store: start afresh */ }
    return freshState();
  }

  var state = load();
  function save() {
    try { window.localStorage.setItem(storeKey, JSON.stringify(state)); } catch (e) { /* storage full or off */ }
  }

  // ---- Building the widget ----------------------------------------------------------------------------------
  function el(tag, attributes, children) {
    var node = document.createElement(tag);
    Object.keys(attributes || {}).forEach(function (name) {
      if (name === "text") { node.textContent = attributes[name]; } else { node.setAttribute(name, attributes[name]); }
    });
    (children || []).forEach(function (child) { node.appendChild(child); });
    return node;
  }

  var stylesheet = el("link", { rel: "stylesheet", href: script.src.replace(/[^/?#]*([?#].*)?$/, "widget.css") });
  var log = el("div", { "class": "intake-chat__log", role: "log", "aria-live": "polite", "aria-relevant": "additions",
                        "aria-label": "Conversation", tabindex: "0", id: ids + "-log" });
  var status = el("p", { "class": "intake-chat__status", role: "status" });
  var input = el("input", { id: ids + "-input", type: "text", maxlength: String(MAX_CHARS), autocomplete: "off",
                            "aria-describedby": ids + "-hint", enterkeyhint: "send" });
  var send = el("button", { type: "submit", "class": "intake-chat__button", text: "Send" });
  // Quick answers come after the message box and its Send button, in reading and tab order alike.
  var choicesBox = el("div", { "class": "intake-chat__choices", role: "group", "aria-label": "Quick answers",
                               hidden: "" });
  var hint = el("p", { id: ids + "-hint", "class": "intake-chat__hint", text: "Press Enter to send." });
  var form = el("form", { "class": "intake-chat__form", novalidate: "" }, [
    el("label", { "for": ids + "-input", text: "Your message" }),
    el("div", { "class": "intake-chat__row" }, [input, send]),
    hint,
    choicesBox
  ]);
  var referenceInput = el("input", { id: ids + "-reference", type: "text", readonly: "", "class": "intake-chat__ref" });
  var copy = el("button", { type: "button", "class": "intake-chat__button intake-chat__button--quiet",
                            text: "Copy", "aria-describedby": ids + "-reference" });
  var copied = el("p", { "class": "intake-chat__copied", role: "status" });
  var referenceBox = el("div", { "class": "intake-chat__reference", hidden: "" }, [
    el("label", { "for": ids + "-reference", text: "Your reference number" }),
    el("div", { "class": "intake-chat__row" }, [referenceInput, copy]),
    copied
  ]);
  var larger = el("button", { type: "button", "class": "intake-chat__button intake-chat__button--quiet",
                              "aria-pressed": "false", text: "Larger text" });
  var restart = el("button", { type: "button", "class": "intake-chat__button intake-chat__button--quiet",
                               text: "Start a new conversation" });
  // Starting again forgets the conversation and its reference in this browser, so it asks first.
  var confirmText = el("p", { id: ids + "-confirm", "class": "intake-chat__confirm-text", tabindex: "-1" });
  var confirmYes = el("button", { type: "button", "class": "intake-chat__button",
                                  text: "Yes, start a new conversation" });
  var confirmNo = el("button", { type: "button", "class": "intake-chat__button intake-chat__button--quiet",
                                 text: "Keep this conversation" });
  var confirmBox = el("div", { "class": "intake-chat__confirm", role: "group", "aria-labelledby": ids + "-confirm",
                               hidden: "" }, [confirmText, el("div", { "class": "intake-chat__row" }, [confirmYes, confirmNo])]);
  var heading = el("h2", { id: ids + "-title", "class": "intake-chat__title", text: title });
  var header = el("div", { "class": "intake-chat__header" }, [heading, larger]);
  var panel = el("section", { "class": "intake-chat__panel", id: ids + "-panel", "aria-labelledby": ids + "-title" }, [
    header,
    el("p", { "class": "intake-chat__notice", text: "If anyone is in danger, call 911." }),
    log, status, referenceBox, form,
    el("div", { "class": "intake-chat__footer" }, [restart, confirmBox])
  ]);
  var root;
  var launcher = null;
  var close = null;
  if (floating) {
    launcher = el("button", { type: "button", "class": "intake-chat__button intake-chat__launcher",
                              "aria-expanded": "false", "aria-controls": ids + "-panel", text: title });
    close = el("button", { type: "button", "class": "intake-chat__button intake-chat__button--quiet",
                           "aria-label": "Close the chat", text: "Close" });
    header.appendChild(close);
    root = el("aside", { "class": "intake-chat intake-chat--floating", "aria-label": title }, [launcher, panel]);
  } else {
    root = el("div", { "class": "intake-chat intake-chat--inline" }, [panel]);
  }
  root.hidden = true; // shown once its styles are in, so it never flashes unstyled (or if they fail, unstyled)

  // ---- Showing messages -------------------------------------------------------------------------------------
  // The newest message is what matters: the log always opens and stays scrolled to its end (without animating
  // when it first appears).
  function scrollToEnd(instant) {
    if (instant && log.scrollTo) {
      log.scrollTo({ top: log.scrollHeight, behavior: "instant" });
    } else {
      log.scrollTop = log.scrollHeight;
    }
  }

  function showMessage(message, withChoices) {
    var bot = message.who === "bot";
    var item = el("div", { "class": "intake-chat__msg intake-chat__msg--" + (bot ? "bot" : "resident") }, [
      el("span", { "class": "intake-chat__who", text: bot ? "311:" : "You:" })
    ]);
    item.appendChild(document.createTextNode(" " + message.text)); // text, never HTML
    log.appendChild(item);
    if (withChoices && message.buttons && message.buttons.length) {
      clearChoices();
      message.buttons.forEach(function (button) {
        var choice = el("button", { type: "button", "class": "intake-chat__button intake-chat__button--quiet",
                                    text: button.title });
        choice.addEventListener("click", function () {
          submit(button.title, button.payload);
          input.focus(); // the pressed button is gone: focus goes back to the message box, not to the page
        });
        choicesBox.appendChild(choice);
      });
      choicesBox.hidden = false;
      hint.textContent = "Press Enter to send, or choose a quick answer below.";
    }
    scrollToEnd(false);
  }

  function clearChoices() {
    choicesBox.textContent = "";
    choicesBox.hidden = true;
    hint.textContent = "Press Enter to send.";
  }

  function showReference() {
    referenceBox.hidden = !state.reference;
    referenceInput.value = state.reference || "";
  }

  function renderAll() {
    log.textContent = "";
    clearChoices();
    if (state.messages.length === 0) { state.messages.push({ who: "bot", text: GREETING }); }
    state.messages.forEach(function (message, index) {
      showMessage(message, index === state.messages.length - 1);
    });
    showReference();
  }

  function add(message) {
    state.messages.push(message);
    var found = message.who === "bot" && REFERENCE.exec(message.text);
    if (found) { state.reference = found[1]; showReference(); }
    save();
    showMessage(message, true);
  }

  // ---- Talking to the assistant -----------------------------------------------------------------------------
  var pending = 0;
  function submit(text, payload) {
    text = text.trim();
    if (!text) { return; }
    clearChoices();
    add({ who: "resident", text: text });
    state.lastActive = Date.now();
    save();
    pending += 1;
    status.textContent = "Sending...";
    return window.fetch(endpoint, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ sender: state.sender, message: payload || text })
    }).then(function (response) {
      return response.json().catch(function () { return null; }).then(function (replies) {
        if (!Array.isArray(replies)) { throw new Error("HTTP " + response.status); }
        return replies;
      });
    }).then(function (replies) {
      showReplies(replies);
    }).catch(function () {
      add({ who: "bot", text: OFFLINE });
    }).then(function () {
      pending -= 1;
      if (!pending) { status.textContent = ""; }
    });
  }

  function showReplies(replies) {
    replies.forEach(function (reply) {
      var buttons = Array.isArray(reply.buttons) ? reply.buttons.filter(function (b) {
        return b && typeof b.title === "string" && typeof b.payload === "string";
      }) : [];
      if (typeof reply.text === "string" && reply.text) { add({ who: "bot", text: reply.text, buttons: buttons }); }
    });
  }

  var polling = false;
  function fetchPending() {
    if (polling || document.hidden) { return; }
    polling = true;
    window.fetch(pendingEndpoint, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ sender: state.sender })
    }).then(function (response) {
      return response.ok ? response.json() : [];
    }).then(function (replies) {
      if (Array.isArray(replies) && replies.length) { showReplies(replies); }
    }).catch(function () { /* offline: the messages wait for the next try */ }).then(function () {
      polling = false;
    });
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var text = input.value;
    if (!text.trim()) { input.focus(); return; }
    input.value = "";
    submit(text);
    input.focus();
  });

  copy.addEventListener("click", function () {
    var done = function () { copied.textContent = "Copied " + state.reference + "."; };
    var byHand = function () {
      referenceInput.focus();
      referenceInput.select();
      var ok = false;
      try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
      if (ok) { done(); } else { copied.textContent = "Select the number and copy it."; }
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(state.reference).then(done, byHand);
    } else {
      byHand();
    }
  });

  function applyTextSize() {
    root.classList.toggle("intake-chat--large", !!state.large);
    larger.setAttribute("aria-pressed", state.large ? "true" : "false");
  }

  larger.addEventListener("click", function () {
    state.large = !state.large;
    save();
    applyTextSize();
  });

  function hideConfirm() {
    confirmBox.hidden = true;
    restart.hidden = false;
  }

  restart.addEventListener("click", function () {
    var said = state.messages.some(function (message) { return message.who === "resident"; });
    if (!said && !state.reference) { startAgain(); return; }
    confirmText.textContent = state.reference
      ? "Start a new conversation? This one and your reference number " + state.reference +
        " will no longer be shown here, so note the number first."
      : "Start a new conversation? This one will no longer be shown here.";
    restart.hidden = true;
    confirmBox.hidden = false;
    confirmText.focus();
  });
  confirmNo.addEventListener("click", function () { hideConfirm(); restart.focus(); });
  confirmYes.addEventListener("click", function () { hideConfirm(); startAgain(); });
  confirmBox.addEventListener("keydown", function (event) {
    if (event.key === "Escape") { event.preventDefault(); event.stopPropagation(); hideConfirm(); restart.focus(); }
  });

  function startAgain() {
    var keep = { large: state.large, open: state.open };
    state = freshState();
    state.large = keep.large;
    state.open = keep.open;
    save();
    copied.textContent = "";
    renderAll();
    status.textContent = "A new conversation has started.";
    input.focus();
  }

  // ---- The floating panel: opens and closes, never traps focus ----------------------------------------------
  function setOpen(open, moveFocus) {
    if (!floating) { return; }
    state.open = open;
    save();
    panel.hidden = !open;
    launcher.setAttribute("aria-expanded", open ? "true" : "false");
    launcher.hidden = open;
    if (moveFocus) { (open ? input : launcher).focus(); }
    if (open) { scrollToEnd(true); }
  }

  if (floating) {
    launcher.addEventListener("click", function () { setOpen(true, true); });
    close.addEventListener("click", function () { setOpen(false, true); });
    panel.addEventListener("keydown", function (event) {
      if (event.key === "Escape") { event.preventDefault(); setOpen(false, true); }
    });
  }

  // ---- Start ------------------------------------------------------------------------------------------------
  var returning = state.messages.length > 0 && state.lastActive && Date.now() - state.lastActive > IDLE_MS;
  renderAll();
  if (returning) { showMessage({ who: "bot", text: WELCOME_BACK }); }
  applyTextSize();
  setOpen(!!state.open, false);

  function reveal() { root.hidden = false; scrollToEnd(true); }
  stylesheet.addEventListener("load", reveal);
  stylesheet.addEventListener("error", reveal);
  function mount() {
    document.head.appendChild(stylesheet);
    (container || document.body).appendChild(root);
  }
  // A script tag in <head> without "defer" runs before <body> exists.
  if (document.body) { mount(); } else { document.addEventListener("DOMContentLoaded", mount); }
  fetchPending();
  window.setInterval(fetchPending, POLL_MS);
  document.addEventListener("visibilitychange", fetchPending);

  window.intakeChatWidget = {
    open: function () { setOpen(true, true); },
    sender: function () { return state.sender; },
    checkMessages: fetchPending
  };
}());
