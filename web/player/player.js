// The gopcast web player: lists the playlists of the served folder and plays one
// (?src=path/to/x.m3u8) with hls.js, showing its rendition ladder.
// Test hooks: window.gopcastPlayer = {hls, video, src, errors, warnings}, where
// `errors` holds fatal player errors and `warnings` hls.js's recoverable ones, and
// the elements #state (data-state), #time (data-seconds), #error, #levels (rows with
// data-level, the playing one with class "current"), #level-select, #playlists.
'use strict';

(function () {
  const $ = (id) => document.getElementById(id);
  const video = $('video');
  const player = { hls: null, video, src: null, errors: [], warnings: [] };
  window.gopcastPlayer = player;

  function element(tag, text, attrs = {}) {
    const el = document.createElement(tag);
    if (text !== undefined) el.textContent = text;  // never innerHTML: file names are data
    for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
    return el;
  }

  function setState(state) {
    $('state').textContent = state;
    $('state').dataset.state = state;
  }

  // err: {source, type, details, fatal, message}
  function reportError(err) {
    player.errors.push(err);
    $('error').textContent = `${err.source}: ${err.type}: ${err.details}${err.message ? ` (${err.message})` : ''}`;
    $('error').hidden = false;
    setState('error');
  }

  // --- the playlists of the served folder

  function playlistItem(p, current) {
    const li = element('li');
    const a = element('a', p.path, { href: `?src=${encodeURIComponent(p.path)}` });
    if (p.path === current) a.setAttribute('aria-current', 'page');
    li.append(a);
    if (p.master) li.append(element('span', 'ladder', { class: 'tag' }));
    if (p.live) li.append(element('span', 'live', { class: 'tag' }));
    return li;
  }

  async function listPlaylists(current) {
    const list = $('playlists');
    try {
      const res = await fetch('/_gopcast/playlists.json', { cache: 'no-cache' });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      const { playlists } = await res.json();
      list.replaceChildren(...playlists.map((p) => playlistItem(p, current)));
      if (playlists.length === 0) list.replaceChildren(element('li', 'no .m3u8 playlist in this folder'));
    } catch (e) {
      list.replaceChildren(element('li', `cannot list the playlists: ${e.message}`));
    }
  }

  // --- the rendition ladder

  // What the media itself showed while a level played (a media playlist alone states
  // no resolution or codecs), by level index.
  const seen = {};
  const resolution = (l, i) => (l.width && l.height ? `${l.width}x${l.height}` : (seen[i] && seen[i].size) || '—');
  const bitrate = (l) => (l.bitrate ? `${Math.round(l.bitrate / 1000)} kbit/s` : '—');
  const codecs = (l, i) => [l.videoCodec, l.audioCodec].filter(Boolean).join(', ') || (seen[i] && seen[i].codecs) || '—';
  const describe = (l, i) => `${resolution(l, i)}, ${bitrate(l)}`;

  function showLevels() {
    const hls = player.hls;
    const rows = $('levels').tBodies[0];
    const select = $('level-select');
    const chosen = select.value;
    rows.replaceChildren();
    select.replaceChildren(element('option', 'Auto', { value: '-1' }));
    hls.levels.forEach((level, i) => {
      const tr = rows.insertRow();
      tr.dataset.level = i;
      tr.classList.toggle('current', i === hls.currentLevel);
      for (const text of [i, resolution(level, i), bitrate(level), codecs(level, i)]) tr.insertCell().textContent = text;
      select.append(element('option', describe(level, i), { value: String(i) }));
    });
    select.value = hls.autoLevelEnabled ? '-1' : chosen;
    const current = hls.levels[hls.currentLevel];
    $('current-level').textContent = current ? `${hls.currentLevel}: ${describe(current, hls.currentLevel)}` : '–';
  }

  function noteMedia(update) {
    if (!player.hls) return;
    // Before the first LEVEL_SWITCHED, the media comes from the level being loaded.
    const i = player.hls.currentLevel >= 0 ? player.hls.currentLevel : player.hls.loadLevel;
    if (i < 0) return;
    seen[i] = Object.assign(seen[i] || {}, update);
    showLevels();
  }

  $('level-select').addEventListener('change', (e) => {
    // -1 gives the choice back to hls.js's bandwidth estimate; a level index forces it.
    if (player.hls) player.hls.currentLevel = Number(e.target.value);
  });

  // --- playback

  function start() {
    video.muted = true;  // muted playback may start without a click
    video.play().catch((e) => player.warnings.push({ source: 'video', type: 'play', details: e.name, fatal: false, message: e.message }));
  }

  function play(src) {
    player.src = src;
    $('source').textContent = src;
    const url = '/' + src.replace(/^\/+/, '').split('/').map(encodeURIComponent).join('/');
    if (window.Hls && Hls.isSupported()) {
      const hls = new Hls();
      player.hls = hls;
      hls.on(Hls.Events.MANIFEST_PARSED, () => {
        showLevels();
        start();
      });
      hls.on(Hls.Events.LEVEL_SWITCHED, showLevels);
      hls.on(Hls.Events.BUFFER_CODECS, (_, tracks) => {
        const found = ['video', 'audio'].map((t) => tracks[t] && tracks[t].codec).filter(Boolean);
        if (found.length) noteMedia({ codecs: found.join(', ') });
      });
      hls.on(Hls.Events.LEVEL_LOADED, (_, data) => { $('live').hidden = !data.details.live; });
      hls.on(Hls.Events.ERROR, (_, data) => {
        const err = {
          source: 'hls.js', type: data.type, details: data.details, fatal: data.fatal,
          message: data.error ? data.error.message : (data.reason || ''),
        };
        if (data.fatal) reportError(err);
        else player.warnings.push(err);
      });
      hls.loadSource(url);
      hls.attachMedia(video);
    } else if (video.canPlayType('application/vnd.apple.mpegurl')) {
      video.src = url;  // Safari plays HLS itself, with no ladder to show
      start();
    } else {
      reportError({ source: 'page', type: 'unsupported', details: 'no Media Source Extensions and no native HLS', fatal: true });
    }
  }

  for (const [event, state] of [['loadstart', 'loading'], ['playing', 'playing'], ['pause', 'paused'],
    ['waiting', 'buffering'], ['ended', 'ended']]) {
    video.addEventListener(event, () => { if (!player.errors.length) setState(state); });
  }
  video.addEventListener('resize', () => noteMedia({ size: `${video.videoWidth}x${video.videoHeight}` }));
  video.addEventListener('timeupdate', () => {
    const t = video.currentTime;
    const d = video.duration;
    $('time').textContent = `${t.toFixed(1)} s` + (Number.isFinite(d) ? ` / ${d.toFixed(1)} s` : '');
    $('time').dataset.seconds = String(t);
  });
  video.addEventListener('error', () => {
    const e = video.error;
    reportError({ source: 'video', type: 'media', details: `code ${e ? e.code : '?'}`, fatal: true, message: e ? e.message : '' });
  });

  $('hls-version').textContent = window.Hls ? Hls.version : '(missing)';
  const src = new URLSearchParams(location.search).get('src');
  listPlaylists(src);
  if (src) play(src);
})();
