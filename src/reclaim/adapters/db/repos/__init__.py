"""SQLAlchemy implementations of the repository ports (:mod:`reclaim.services.ports`), one
module per aggregate; :mod:`reclaim.adapters.db.uow` gathers them into the unit of work."""
