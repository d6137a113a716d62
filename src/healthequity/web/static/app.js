// Starts the NHS.UK frontend components (header menu, skip link, buttons, error summary).
import { initAll } from "/assets/nhsuk/nhsuk-frontend.min.js";

initAll();
