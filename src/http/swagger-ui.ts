/**
 * Swagger UI at /docs, from the swagger-ui-dist package, showing /openapi.json. The page and its initializer are
 * ours (no inline script, so helmet's Content-Security-Policy holds); the package's files are served as they are.
 */
import { dirname } from 'node:path';
import express, { type Router } from 'express';

const DIST = dirname(require.resolve('swagger-ui-dist/package.json'));

const PAGE = `<!DOCTYPE html>
<html lang="en">
  <head>
    <meta charset="UTF-8">
    <title>FHIR R4 server API</title>
    <link rel="stylesheet" type="text/css" href="./swagger-ui.css" />
    <link rel="icon" type="image/png" href="./favicon-32x32.png" sizes="32x32" />
  </head>
  <body>
    <div id="swagger-ui"></div>
    <script src="./swagger-ui-bundle.js" charset="UTF-8"></script>
    <script src="./swagger-initializer.js" charset="UTF-8"></script>
  </body>
</html>
`;

const INITIALIZER = `window.onload = function () {
  window.ui = SwaggerUIBundle({ url: '../openapi.json', dom_id: '#swagger-ui', deepLinking: true, validatorUrl: null });
};
`;

export function swaggerUi(): Router {
  const router = express.Router({ strict: true });
  router.get('/', (req, res) => {
    if (!req.originalUrl.split('?')[0]?.endsWith('/')) {
      res.redirect(301, '/docs/');
      return;
    }
    res.type('text/html').send(PAGE);
  });
  router.get('/swagger-initializer.js', (_req, res) => {
    res.type('application/javascript').send(INITIALIZER);
  });
  router.use(express.static(DIST, { index: false, fallthrough: true }));
  return router;
}
