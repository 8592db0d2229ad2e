/* DX dashboard inside a Teams tab: get the Teams SSO token and load each page with it.
 *
 * The page Teams opens (/dashboard/<page>) holds no data. This script asks Teams for a token
 * (microsoftTeams.authentication.getAuthToken), fetches /dashboard/view/<page> with
 * "Authorization: Bearer <token>" and puts the answer's <main> in place. Navigation, filters and
 * the language link stay in the tab the same way. Without a token (opened outside Teams, sign-in
 * refused) the server's own explanation page is shown, so every message stays in the catalogs.
 * Local mode pages are rendered by the server and do not load this script.
 */
(function () {
  'use strict';
  var root = document.documentElement;
  if (root.getAttribute('data-mode') !== 'teams') return;
  var PAGE_PATH = /^\/dashboard(?:\/(overview|announcements|surveys|questions))?\/?$/;
  var INIT_TIMEOUT_MS = 10000;
  var script = document.currentScript;
  var teams = null;  // window.microsoftTeams, once the library is loaded (only inside a frame)
  var token = null;
  var teamsLang = null;

  function extraOrigins() {
    var raw = root.getAttribute('data-tab-origins') || '';
    return raw.split(' ').filter(function (o) { return o; });
  }

  function withTimeout(promise, ms) {
    return new Promise(function (resolve, reject) {
      var timer = setTimeout(function () { reject(new Error('timeout')); }, ms);
      promise.then(function (v) { clearTimeout(timer); resolve(v); },
                   function (e) { clearTimeout(timer); reject(e); });
    });
  }

  function getToken(force) {
    if (token && !force) return Promise.resolve(token);
    if (!teams || !teams.authentication) return Promise.reject(new Error('no teams'));
    return withTimeout(teams.authentication.getAuthToken(), INIT_TIMEOUT_MS).then(function (t) {
      token = t;
      return t;
    });
  }

  function viewUrl(href) {
    var url = new URL(href, window.location.href);
    var match = PAGE_PATH.exec(url.pathname);
    var page = (match && match[1]) || 'overview';
    var query = new URLSearchParams(url.search);
    if (!query.has('lang') && teamsLang) query.set('lang', teamsLang);
    var qs = query.toString();
    return '/dashboard/view/' + page + (qs ? '?' + qs : '');
  }

  function replaceFrom(doc, selector) {
    var mine = document.querySelector(selector);
    var theirs = doc.querySelector(selector);
    if (mine && theirs) {
      mine.replaceWith(document.importNode(theirs, true));
    } else if (mine && !theirs) {
      mine.remove();
    } else if (!mine && theirs) {
      var main = document.getElementById('main');
      main.parentNode.insertBefore(document.importNode(theirs, true), main);
    }
  }

  function show(html, focus) {
    var doc = new DOMParser().parseFromString(html, 'text/html');
    var main = document.getElementById('main');
    var incoming = doc.getElementById('main');
    main.innerHTML = incoming ? incoming.innerHTML : '';
    replaceFrom(doc, 'header.top');
    replaceFrom(doc, 'nav.pages');
    document.title = doc.title;
    root.setAttribute('lang', doc.documentElement.getAttribute('lang') || root.getAttribute('lang'));
    root.setAttribute('data-page', doc.documentElement.getAttribute('data-page') || '');
    if (focus) main.focus();
  }

  function load(href, push) {
    var main = document.getElementById('main');
    main.setAttribute('aria-busy', 'true');
    var target = viewUrl(href);
    function fetchWith(tok) {
      var headers = {};
      if (tok) headers.Authorization = 'Bearer ' + tok;
      return fetch(target, { headers: headers, credentials: 'omit', cache: 'no-store' });
    }
    return getToken(false)
      .catch(function () { return null; })
      .then(function (tok) {
        return fetchWith(tok).then(function (res) {
          if (res.status === 401 && tok) {  // expired meanwhile: one fresh token, one retry
            return getToken(true).then(fetchWith, function () { return res; });
          }
          return res;
        });
      })
      .then(function (res) { return res.text(); })
      .then(function (html) {
        show(html, push);
        if (push) window.history.pushState({ href: href }, '', href);
      })
      .catch(function () {
        main.removeAttribute('aria-busy');
      })
      .then(function () { main.removeAttribute('aria-busy'); });
  }

  function isPageLink(a) {
    if (!a || a.hasAttribute('download') || a.target === '_blank') return false;
    var url = new URL(a.href, window.location.href);
    return url.origin === window.location.origin && PAGE_PATH.test(url.pathname);
  }

  document.addEventListener('click', function (event) {
    if (event.defaultPrevented || event.button !== 0 || event.ctrlKey || event.metaKey || event.shiftKey) return;
    var a = event.target.closest ? event.target.closest('a') : null;
    if (!isPageLink(a)) return;
    event.preventDefault();
    load(a.href, true);
  });

  document.addEventListener('submit', function (event) {
    var form = event.target;
    if ((form.method || 'get').toLowerCase() !== 'get') return;
    var action = new URL(form.getAttribute('action') || window.location.href, window.location.href);
    if (!PAGE_PATH.test(action.pathname)) return;
    event.preventDefault();
    var query = new URLSearchParams(new FormData(form));
    load(action.pathname + '?' + query.toString(), true);
  });

  window.addEventListener('popstate', function () { load(window.location.href, false); });

  function applyTheme(theme) {
    root.classList.remove('theme-dark', 'theme-contrast');
    if (theme === 'dark') root.classList.add('theme-dark');
    if (theme === 'contrast') root.classList.add('theme-contrast');
  }

  function loadTeamsLibrary() {
    // Only inside a frame: at load the library also asks Microsoft's CDN for its list of Teams
    // origins, which a page opened directly in a browser has no reason to do.
    return new Promise(function (resolve, reject) {
      var tag = document.createElement('script');
      tag.src = script.getAttribute('data-teams-js');
      tag.onload = function () { resolve(window.microsoftTeams); };
      tag.onerror = reject;
      document.head.appendChild(tag);
    });
  }

  function configure(locale) {
    // The team tab's configuration page: the tab always shows the dashboard, so it is valid at once.
    var name = root.getAttribute(/^en/i.test(locale || '') ? 'data-tab-name-en' : 'data-tab-name-ja');
    var base = window.location.origin + '/dashboard';
    teams.pages.config.registerOnSaveHandler(function (saveEvent) {
      teams.pages.config
        .setConfig({ entityId: 'dashboard', contentUrl: base, websiteUrl: base, suggestedDisplayName: name })
        .then(function () { saveEvent.notifySuccess(); },
              function (error) { saveEvent.notifyFailure(String(error)); });
    });
    teams.pages.config.setValidityState(true);
  }

  function start() {
    var configPage = root.getAttribute('data-page') === 'config';
    if (window.parent === window && configPage) return;  // nothing to save outside Teams
    if (window.parent === window) {
      load(window.location.href, false);  // not in Teams: the server explains (401)
      return;
    }
    loadTeamsLibrary()
      .then(function (library) {
        teams = library;
        return withTimeout(teams.app.initialize(extraOrigins()), INIT_TIMEOUT_MS);
      })
      .then(function () {
        return teams.app.getContext();
      })
      .then(function (context) {
        var locale = (context && context.app && context.app.locale) || '';
        if (root.getAttribute('data-lang-fixed') !== 'yes') teamsLang = /^en/i.test(locale) ? 'en' : 'ja';
        applyTheme(context && context.app && context.app.theme);
        if (teams.app.registerOnThemeChangeHandler) teams.app.registerOnThemeChangeHandler(applyTheme);
        if (configPage) configure(locale);
      })
      .catch(function () { /* not a Teams host after all: load() shows why */ })
      .then(function () { if (!configPage) load(window.location.href, false); });
  }

  start();
}());
