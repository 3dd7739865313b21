"""Scrapy project of cacwatch: spiders that find filing announcements and archive their attachments."""
