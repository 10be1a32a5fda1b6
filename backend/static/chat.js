// A minimal, dependency-free chat client for the Rasa REST channel. Keeps the conversation across reloads.
(function () {
  "use strict";
  var script = document.currentScript;
  var rasaUrl = (script && script.dataset.rasaUrl) ||
    window.location.protocol + "//" + window.location.hostname + ":5005";
  var endpoint = rasaUrl.replace(/\/$/, "") + "/webhooks/rest/webhook";
  var STORE = "intake-chat";
  var log = document.getElementById("chat-log");
  var form = document.getElementById("chat-form");
  var input = document.getElementById("chat-input");
  var restart = document.getElementById("chat-new");

  function newSender() {
    var bytes = new Uint8Array(12);
    window.crypto.getRandomValues(bytes);
    return "web-" + Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }

  function load() {
    try {
      var saved = JSON.parse(window.localStorage.getItem(STORE));
      if (saved && saved.sender && Array.isArray(saved.messages)) { return saved; }
    } catch (e) { /* a damaged store starts a new conversation */ }
    return { sender: newSender(), messages: [] };
  }

  var state = load();
  function save() { window.localStorage.setItem(STORE, JSON.stringify(state)); }

  function show(who, text) {
    var item = document.createElement("p");
    item.className = "msg " + who;
    var label = document.createElement("span");
    label.className = "who";
    label.textContent = who === "bot" ? "311:" : "You:";
    item.appendChild(label);
    item.appendChild(document.createTextNode(text));  // text, never HTML
    log.appendChild(item);
    log.scrollTop = log.scrollHeight;
  }

  function add(who, text) { state.messages.push({ who: who, text: text }); save(); show(who, text); }

  function send(text) {
    add("resident", text);
    return fetch(endpoint, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ sender: state.sender, message: text })
    }).then(function (response) { return response.json(); })
      .then(function (replies) {
        (Array.isArray(replies) ? replies : []).forEach(function (reply) { if (reply.text) { add("bot", reply.text); } });
      })
      .catch(function () { add("bot", "Sorry, I can't connect right now. Please try again, or call 311."); });
  }

  state.messages.forEach(function (m) { show(m.who, m.text); });
  if (state.messages.length === 0) {
    show("bot", "Hi! Tell me about a problem, a complaint or a compliment.");
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var text = input.value.trim();
    if (!text) { return; }
    input.value = "";
    send(text).then(function () { input.focus(); });
  });

  restart.addEventListener("click", function () {
    state = { sender: newSender(), messages: [] };
    save();
    log.textContent = "";
    show("bot", "Hi! Tell me about a problem, a complaint or a compliment.");
    input.focus();
  });
}());
