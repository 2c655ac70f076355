# The stop button (Art. 14(4)(e)): a deployment can be stopped, recorded as an event.

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('registry', '0001_initial'),
    ]

    operations = [
        migrations.AlterField(
            model_name='deployment',
            name='status',
            field=models.CharField(choices=[('pending', 'Pending'), ('active', 'Active'), ('stopped', 'Stopped')], default='pending', max_length=16),
        ),
        migrations.AlterField(
            model_name='deploymentevent',
            name='kind',
            field=models.CharField(choices=[('activated', 'Activated'), ('rolled_back', 'Rolled Back'), ('stopped', 'Stopped')], max_length=16),
        ),
    ]
