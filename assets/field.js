// The crew's phone: every tap is queued on the phone with its own key, then sent to the server when there is
// signal; the server applies each key once, so a tap sent twice (a retry after a lost answer) counts once.
(function () {
    var QUEUE = 'heattwin.field.queue';
    var DRAFTS = 'heattwin.field.drafts';
    var FLUSH_MS = 4000;
    var sending = false;
    var photos = {};  // work order id -> [data URL]

    function onField() { return !!document.getElementById('field-root'); }
    function read(name, fallback) {
        try { return JSON.parse(localStorage.getItem(name)) || fallback; } catch (e) { return fallback; }
    }
    function write(name, value) { localStorage.setItem(name, JSON.stringify(value)); }
    function newKey() {
        if (window.crypto && crypto.randomUUID) { return crypto.randomUUID(); }
        return 'k' + Date.now().toString(36) + Math.random().toString(36).slice(2, 12);
    }
    function lang() {
        var root = document.getElementById('field-root');
        return root && root.getAttribute('lang') === 'en' ? 'en' : 'zh-CN';
    }
    var TEXT = {
        'zh-CN': {online: '在线', offline: '无信号', queued: '待发送', sent: '已提交', refused: '未执行',
                  need: '请填写处理措施', confirm: '请选择住户是否确认', located: '已记录位置'},
        'en': {online: 'online', offline: 'no signal', queued: 'queued', sent: 'sent', refused: 'not done',
               need: 'say what was done', confirm: 'say whether the resident confirmed', located: 'position recorded'}
    };
    function say(key) { return TEXT[lang()][key]; }

    function status(online) {
        var el = document.getElementById('field-status');
        if (!el) { return; }
        var queued = read(QUEUE, []).length;
        el.setAttribute('data-online', online ? '1' : '0');
        el.setAttribute('data-queued', String(queued));
        el.textContent = (online ? say('online') : say('offline')) + (queued ? ' · ' + queued + ' ' + say('queued') : '');
    }

    function cardOf(woId) { return document.getElementById('field-wo-' + woId); }
    function message(woId, text, bad) {
        var card = cardOf(woId);
        var el = card && card.querySelector('.field-msg');
        if (el) { el.textContent = text; el.className = 'field-msg' + (bad ? ' bad' : ''); }
    }

    function enqueue(woId, action, payload) {
        var queue = read(QUEUE, []);
        queue.push({key: newKey(), work_order_id: Number(woId), action: action, payload: payload || {},
                    tapped_at: new Date().toISOString()});
        write(QUEUE, queue);
        var card = cardOf(woId);
        if (card) { card.classList.add('pending'); }
        message(woId, say('queued'));
        status(navigator.onLine);
        flush();
    }

    function flush() {
        if (sending || !onField()) { return; }
        var queue = read(QUEUE, []);
        if (!queue.length) { status(navigator.onLine); return; }
        var batch = queue.slice(0, 20);
        sending = true;
        fetch('/api/v1/field/actions', {method: 'POST', credentials: 'same-origin',
                                        headers: {'Content-Type': 'application/json'},
                                        body: JSON.stringify({actions: batch})})
            .then(function (response) {
                if (response.status === 401) { window.location.href = '/login?expired=1&next=/field'; }
                if (!response.ok) { throw new Error('HTTP ' + response.status); }
                return response.json();
            })
            .then(function (body) {
                var done = {};
                body.results.forEach(function (r) {
                    done[r.key] = true;
                    var tap = batch.find(function (a) { return a.key === r.key; });
                    if (tap) { message(tap.work_order_id, r.ok ? say('sent') : say('refused') + ': ' + r.error, !r.ok); }
                });
                write(QUEUE, read(QUEUE, []).filter(function (a) { return !done[a.key]; }));
                sending = false;
                status(true);
                var refresh = document.getElementById('field-refresh');
                if (refresh) { refresh.click(); }
                if (read(QUEUE, []).length) { flush(); }
            })
            .catch(function () { sending = false; status(false); });
    }

    function position(then) {
        if (!navigator.geolocation) { then({}); return; }
        navigator.geolocation.getCurrentPosition(
            function (p) { then({lon: p.coords.longitude, lat: p.coords.latitude, accuracy_m: p.coords.accuracy}); },
            function () { then({}); }, {enableHighAccuracy: true, timeout: 8000, maximumAge: 60000});
    }

    function field(card, name) {
        var el = card.querySelector('[name="' + name + '"]');
        return el ? el.value : '';
    }

    function resolve(woId) {
        var card = cardOf(woId);
        var confirmed = field(card, 'resident_confirmed');
        var payload = {cause: field(card, 'cause'), action: field(card, 'action').trim(),
                       materials: field(card, 'materials'), notes: field(card, 'notes'),
                       resident_confirmed: confirmed === '1'};
        if (!payload.action) { message(woId, say('need'), true); return; }
        // The crew answers 是 or 否 themselves: the list starts unanswered.
        if (confirmed !== '1' && confirmed !== '0') { message(woId, say('confirm'), true); return; }
        (photos[woId] || []).forEach(function (data) { enqueue(woId, 'photo', {data: data}); });
        photos[woId] = [];
        var drafts = read(DRAFTS, {});
        delete drafts[woId];
        write(DRAFTS, drafts);
        position(function (where) { enqueue(woId, 'resolve', Object.assign(payload, where)); });
    }

    // A photo is made smaller on the phone (1600 px, JPEG) before it waits in the queue.
    function pickPhoto(woId) {
        var input = document.createElement('input');
        input.type = 'file';
        input.accept = 'image/jpeg,image/png';
        input.setAttribute('capture', 'environment');
        input.className = 'field-file';
        input.addEventListener('change', function () {
            if (input.files && input.files[0]) { addPhoto(woId, input.files[0]); }
            input.remove();
        });
        document.body.appendChild(input);
        input.click();
    }

    function addPhoto(woId, file) {
        var reader = new FileReader();
        reader.onload = function () {
            var img = new Image();
            img.onload = function () {
                var scale = Math.min(1, 1600 / Math.max(img.width, img.height));
                var canvas = document.createElement('canvas');
                canvas.width = Math.round(img.width * scale);
                canvas.height = Math.round(img.height * scale);
                canvas.getContext('2d').drawImage(img, 0, 0, canvas.width, canvas.height);
                var data = canvas.toDataURL('image/jpeg', 0.82);
                (photos[woId] = photos[woId] || []).push(data);
                var box = document.querySelector('.field-photos[data-wo="' + woId + '"]');
                if (box) {
                    var thumb = document.createElement('img');
                    thumb.src = data;
                    thumb.className = 'field-thumb';
                    box.appendChild(thumb);
                }
            };
            img.src = reader.result;
        };
        reader.readAsDataURL(file);
    }
    window.heattwinField = {addPhoto: addPhoto, flush: flush, queue: function () { return read(QUEUE, []); }};

    document.addEventListener('click', function (event) {
        var button = event.target.closest && event.target.closest('.field-act[data-action]');
        if (!button || !onField() || button.tagName === 'A') { return; }
        var woId = button.getAttribute('data-wo'), action = button.getAttribute('data-action');
        if (action === 'pick-photo') { pickPhoto(woId); return; }
        if (action === 'resolve') { resolve(woId); return; }
        if (action === 'arrive') {
            position(function (where) { enqueue(woId, 'arrive', where); message(woId, say('located')); });
            return;
        }
        enqueue(woId, action, {});
    });

    // What is typed in a resolution survives a re-render and a reload of the page.
    document.addEventListener('input', function (event) {
        var card = event.target.closest && event.target.closest('.field-card');
        if (!card || !event.target.name) { return; }
        var drafts = read(DRAFTS, {});
        drafts[card.dataset.wo] = drafts[card.dataset.wo] || {};
        drafts[card.dataset.wo][event.target.name] = event.target.value;
        write(DRAFTS, drafts);
    });
    new MutationObserver(function () {
        var drafts = read(DRAFTS, {});
        Object.keys(drafts).forEach(function (woId) {
            var card = cardOf(woId);
            if (!card) { return; }
            Object.keys(drafts[woId]).forEach(function (name) {
                var el = card.querySelector('[name="' + name + '"]');
                if (el && !el.value && drafts[woId][name]) { el.value = drafts[woId][name]; }
            });
        });
    }).observe(document.documentElement, {childList: true, subtree: true});

    window.addEventListener('online', function () { status(true); flush(); });
    window.addEventListener('offline', function () { status(false); });
    setInterval(flush, FLUSH_MS);
    setInterval(function () { if (onField()) { status(navigator.onLine); } }, 1000);
})();
