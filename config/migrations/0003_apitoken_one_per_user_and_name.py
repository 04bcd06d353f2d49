from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("switchboard", "0002_apitoken_names_made_unique"),
    ]

    operations = [
        migrations.AlterField(
            model_name="apitoken",
            name="name",
            field=models.CharField(
                default="default",
                help_text="What the token is for (a script, a machine). A user has one token per name: issuing a token under a name they already have revokes that token.",
                max_length=100,
            ),
        ),
        migrations.AddConstraint(
            model_name="apitoken",
            constraint=models.UniqueConstraint(fields=("user", "name"), name="apitoken_one_per_user_and_name"),
        ),
    ]
