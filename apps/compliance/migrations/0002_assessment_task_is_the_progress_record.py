"""Every job's progress record is its ``task`` field: ``Assessment.task_record``
becomes ``task``, and the field that held classification or regression, which had
that name, becomes ``learning_task``. Renames only: no row changes."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("compliance", "0001_initial"),
        ("tasks", "0001_initial"),
    ]

    operations = [
        migrations.RenameField(model_name="assessment", old_name="task", new_name="learning_task"),
        migrations.RenameField(model_name="assessment", old_name="task_record", new_name="task"),
    ]
