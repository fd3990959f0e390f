from django import template

register = template.Library()


@register.filter
def mbps(value: int) -> str:
    return f"{value} Mbit/s" if value else "Unlimited"
