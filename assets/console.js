// The admin console's one script, served by Latch. Every page works without it; it only adds
// search as you type to forms marked data-live-search="<id of the results region>": the very GET
// the form's button makes, with that region of the answer swapped into the page.
const DELAY_MS = 200;

for (const form of document.querySelectorAll('form[data-live-search]')) {
  const region = document.getElementById(form.dataset.liveSearch);
  if (!region) continue;
  let timer;
  let controller;

  const search = async () => {
    const url = new URL(form.action);
    url.search = new URLSearchParams(new FormData(form)).toString();
    controller?.abort();
    controller = new AbortController();
    try {
      const response = await fetch(url, { signal: controller.signal, headers: { accept: 'text/html' } });
      if (!response.ok) return;
      const fresh = new DOMParser().parseFromString(await response.text(), 'text/html').getElementById(region.id);
      // Signed out meanwhile (the answer is the sign-in page): the button still works and shows why.
      if (!fresh) return;
      region.replaceChildren(...fresh.childNodes);
      history.replaceState(null, '', url);
    } catch (error) {
      if (error.name !== 'AbortError') throw error;
    }
  };

  form.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(search, DELAY_MS);
  });
}
