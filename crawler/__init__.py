"""Scrapy project of cacwatch: find filing announcements, archive their attachments."""
