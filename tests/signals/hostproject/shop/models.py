from django.db import models


class Purchase(models.Model):
    """The host shop's order: its own names for the reference and the status."""

    reference = models.CharField(max_length=32, unique=True)
    state = models.CharField(max_length=20, default="new")
    courier_phone = models.CharField(max_length=20, blank=True)

    def __str__(self) -> str:
        return self.reference
