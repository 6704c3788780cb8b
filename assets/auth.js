// Shows the server's refusals (401/403 to a Dash callback) in the page's language, and sends an
// expired session or revoked kiosk to the login page. The check itself is on the server.
(function () {
    var original = window.fetch;
    var timer = null;
    var redirecting = false;

    function pageLang() {
        var el = document.querySelector('#wall-root[lang], #scn-root[lang], [data-lang]');
        var lang = el ? (el.getAttribute('lang') || el.getAttribute('data-lang')) : document.documentElement.lang;
        return lang === 'en' ? 'en' : 'zh-CN';
    }

    function show(body) {
        var toast = document.getElementById('app-toast');
        if (!toast) { return; }
        toast.textContent = (body.messages && body.messages[pageLang()]) || body.error || 'refused';
        toast.setAttribute('data-action', body.action || '');
        toast.className = 'app-toast open';
        clearTimeout(timer);
        timer = setTimeout(function () { toast.className = 'app-toast'; }, 8000);
        if (body.login && !redirecting) {
            redirecting = true;
            setTimeout(function () {
                window.location.href = '/login?expired=1&next=' +
                    encodeURIComponent(window.location.pathname + window.location.search);
            }, 2500);
        }
    }

    window.fetch = function (input) {
        var url = typeof input === 'string' ? input : (input && input.url) || '';
        return original.apply(this, arguments).then(function (response) {
            if ((response.status === 401 || response.status === 403) && url.indexOf('_dash-update-component') >= 0) {
                response.clone().json().then(show, function () {});
            }
            return response;
        });
    };
})();
