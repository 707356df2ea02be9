from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from yipanqi.directory.demo import DEMO_PASSWORD, load_demo


class Command(BaseCommand):
    help = (
        "Load the demo: the national directory, four cooperation circles, demo users, the demo ledger, the demo "
        "meetings and the demo assistance requests (idempotent)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--quiet-logins", action="store_true", help="do not print the demo logins")

    def handle(self, *args, quiet_logins=False, **options):
        if settings.PRODUCTION:
            raise CommandError("the demo users have a published password; refusing to load them in production mode")
        from yipanqi.assistance.demo import load_assistance_demo
        from yipanqi.evidence.demo import load_evidence_demo
        from yipanqi.ledger.demo import load_ledger_demo
        from yipanqi.meetings.demo import load_meetings_demo

        users = load_demo(stdout=self.stdout)
        load_ledger_demo(stdout=self.stdout)
        load_meetings_demo(stdout=self.stdout)
        load_assistance_demo(stdout=self.stdout)
        load_evidence_demo(stdout=self.stdout)
        if quiet_logins:
            return
        self.stdout.write(self.style.SUCCESS(f"\n演示账号 Demo logins (password for all: {DEMO_PASSWORD})"))
        for user in users:
            self.stdout.write(f"  {user.username:<15} {user.role_label}（{user.agency}）")
