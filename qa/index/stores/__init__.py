"""Where an index is kept: the ``IndexStore`` protocol (``base``), an index folder (``folder``) and PostgreSQL (``postgres``)."""
