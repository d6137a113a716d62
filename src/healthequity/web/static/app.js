// Starts the NHS.UK frontend components (header menu, skip link, buttons, error summary,
// password input). The design system's template marks the body as supported with an inline
// script; the Content-Security-Policy allows no inline script, so it is done here, before
// `initAll`, which starts nothing on a page without the class.
import { initAll } from "/assets/nhsuk/nhsuk-frontend.min.js";

document.body.classList.add("js-enabled", "nhsuk-frontend-supported");
initAll();
