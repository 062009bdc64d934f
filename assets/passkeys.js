// Latch's WebAuthn ceremonies, on top of @simplewebauthn/browser (loaded before this script as the
// global SimpleWebAuthnBrowser). Each ceremony form posts its options request with the form's own
// anti-forgery token, runs the browser's passkey prompt, then submits the form with the response:
// the server's answer is an ordinary page or redirect, so nothing here handles a result.
// Without JavaScript the forms stay hidden and the pages work with passwords.
(() => {
  'use strict';

  const webauthn = window.SimpleWebAuthnBrowser;
  if (!webauthn || !webauthn.browserSupportsWebAuthn()) return;

  const say = (form, message) => {
    const status = form.querySelector('[data-passkey-status]');
    if (status) status.textContent = message;
  };

  const optionsFor = async (form) => {
    const csrf = form.querySelector('input[name="csrf"]');
    const response = await fetch(form.dataset.options, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json' },
      body: new URLSearchParams({ csrf: csrf ? csrf.value : '' }),
      credentials: 'same-origin',
    });
    if (!response.ok) throw new Error('options refused');
    return response.json();
  };

  const submit = (form, credential) => {
    form.querySelector('input[name="response"]').value = JSON.stringify(credential);
    form.submit();
  };

  // A prompt the person dismissed, or one aborted for another (the button ends the autofill request).
  const dismissed = (error) => error && (error.name === 'NotAllowedError' || error.name === 'AbortError');

  /** A form whose button asks for a passkey and posts it: passwordless sign-in, or the second step after a password. */
  const assertOnClick = (form, otherwise) => {
    const button = form.querySelector('button');
    form.hidden = false;
    button.addEventListener('click', async () => {
      button.disabled = true;
      say(form, '');
      try {
        submit(form, await webauthn.startAuthentication({ optionsJSON: await optionsFor(form) }));
      } catch (error) {
        say(form, dismissed(error) ? `No passkey was used. Try again, or ${otherwise}.` : `Using a passkey did not work here: ${otherwise}.`);
        button.disabled = false;
      }
    });
  };

  const secondFactor = document.querySelector('form[data-passkey-second-factor]');
  if (secondFactor) assertOnClick(secondFactor, 'use another way');

  const signIn = document.querySelector('form[data-passkey-sign-in]');
  if (signIn) {
    assertOnClick(signIn, 'sign in with your password');

    // Conditional UI: the browser offers the passkeys of this site in the email field's autofill.
    webauthn.browserSupportsWebAuthnAutofill().then(async (supported) => {
      if (!supported) return;
      try {
        submit(signIn, await webauthn.startAuthentication({ optionsJSON: await optionsFor(signIn), useBrowserAutofill: true }));
      } catch (error) {
        if (!dismissed(error)) say(signIn, 'Passkeys could not be offered here. Use the button or your password.');
      }
    });
  }

  const register = document.querySelector('form[data-passkey-register]');
  if (register) {
    const button = register.querySelector('button');
    register.hidden = false;
    button.addEventListener('click', async () => {
      button.disabled = true;
      say(register, '');
      try {
        submit(register, await webauthn.startRegistration({ optionsJSON: await optionsFor(register) }));
      } catch (error) {
        say(register, error && error.name === 'InvalidStateError' ? 'This passkey is registered already.' : dismissed(error) ? 'No passkey was added.' : 'A passkey could not be added here.');
        button.disabled = false;
      }
    });
  }
})();
