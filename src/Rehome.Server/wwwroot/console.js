// The console's own script: Copy buttons (data-copy names the element whose text is copied). A listener here,
// not an inline onclick, which the Content-Security-Policy forbids.
document.addEventListener('click', event => {
    const button = event.target instanceof Element ? event.target.closest('button[data-copy]') : null;
    const source = button ? document.getElementById(button.dataset.copy) : null;
    if (source) {
        navigator.clipboard.writeText(source.textContent);
    }
});
