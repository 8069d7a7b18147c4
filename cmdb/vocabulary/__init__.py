"""The register's vocabulary as users manage it: categories, status words, custom fields."""
