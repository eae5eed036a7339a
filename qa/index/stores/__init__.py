"""Where an index is kept: the ``IndexStorage`` protocol (``base``), an index folder (``folder``) and PostgreSQL (``postgres``)."""
