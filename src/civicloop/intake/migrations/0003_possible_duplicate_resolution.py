import django.db.models.deletion
from django.db import migrations, models
from django.db.models import F


def confirm_pairs_already_marked(apps, schema_editor):
    """Pairs whose report staff had already marked a duplicate of the other were decided."""
    PossibleDuplicate = apps.get_model("intake", "PossibleDuplicate")
    PossibleDuplicate.objects.filter(case__duplicate_of_id=F("candidate_id")).update(
        resolution="confirmed"
    )


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0002_public_channels"),
        ("intake", "0002_public_reports"),
        ("staff", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="possibleduplicate",
            name="resolution",
            field=models.CharField(
                choices=[
                    ("open", "Waiting for review"),
                    ("confirmed", "Same problem"),
                    ("dismissed", "Not the same problem"),
                ],
                default="open",
                max_length=20,
            ),
        ),
        migrations.AddField(
            model_name="possibleduplicate",
            name="resolved_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="possibleduplicate",
            name="resolved_by",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="staff.staffmember",
            ),
        ),
        migrations.AddIndex(
            model_name="possibleduplicate",
            index=models.Index(
                fields=["resolution", "created_at"], name="possible_duplicate_queue"
            ),
        ),
        migrations.RunPython(confirm_pairs_already_marked, migrations.RunPython.noop),
    ]
