"""Web pages served by the API app: sign-in, scan landing page, audit progress, CIs, impact."""
