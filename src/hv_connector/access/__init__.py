"""Who acts: staff known by their SSH key or OS login, never by the name they type (``hvc access``)."""
