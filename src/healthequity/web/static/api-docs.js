// Starts Swagger UI from a file, since the Content-Security-Policy forbids inline script.
const element = document.getElementById("swagger-ui");
window.SwaggerUIBundle({ url: element.dataset.openapiUrl, dom_id: "#swagger-ui" });
