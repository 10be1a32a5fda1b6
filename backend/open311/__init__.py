"""Open311 GeoReport v2: the catalog's services and the City's service requests at ``/open311/v2/``."""
