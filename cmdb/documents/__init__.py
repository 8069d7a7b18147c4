"""The document library and knowledge base: files and Markdown notes attached to CIs, hardware
models and categories, and the file store they (and baseline snapshots) are kept in."""
