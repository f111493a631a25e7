import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("intake", "0003_possible_duplicate_resolution"),
        ("staff", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="triageitem",
            name="closed_reason",
            field=models.CharField(
                blank=True,
                choices=[
                    ("spam", "Spam or junk mail"),
                    ("not_for_us", "Not for us: the sender was told where to go"),
                    ("duplicate", "A copy of a message already dealt with"),
                    ("no_action", "No action needed (for example a thank-you)"),
                ],
                max_length=20,
            ),
        ),
        migrations.AddField(
            model_name="triageitem",
            name="handled_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="triageitem",
            name="handled_by",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="staff.staffmember",
            ),
        ),
    ]
