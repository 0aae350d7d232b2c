"""Words participants read (booking pages, messages) in English and Spanish.

Message ids are the English text with ``{name}`` placeholders; a test checks that
every id used by the booking templates and messages has a Spanish entry.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

LANGUAGES = {"en": "English", "es": "Español"}

ES: dict[str, str] = {
    # Layout
    "Skip to main content": "Saltar al contenido principal",
    "Book a session": "Reservar una sesión",
    "Language": "Idioma",
    "This site does not load anything from other servers.":
        "Este sitio no carga nada de otros servidores.",
    "There is a problem": "Hay un problema",
    # Booking page
    "Hello {name}": "Hola, {name}",
    "You are invited to: {title}": "Está invitado(a) a: {title}",
    "Choose a time": "Elija un horario",
    "Times are shown in each session's time zone.":
        "Los horarios se muestran en la zona horaria de cada sesión.",
    "{count} seats left": "Quedan {count} lugares",
    "Full": "Completo",
    "Choose one of the offered times.": "Elija uno de los horarios ofrecidos.",
    "That time is no longer offered. Choose another.":
        "Ese horario ya no se ofrece. Elija otro.",
    "That time starts too soon to book. Choose a later one.":
        "Ese horario empieza demasiado pronto para reservarlo. Elija uno posterior.",
    "No times are open right now. Contact the research team.":
        "No hay horarios disponibles ahora. Comuníquese con el equipo de investigación.",
    "Consent": "Consentimiento",
    "Consent text, version {version}": "Texto de consentimiento, versión {version}",
    "Type your full name": "Escriba su nombre completo",
    "Typing your name is your signature.": "Escribir su nombre es su firma.",
    "Type your name to give consent.": "Escriba su nombre para dar su consentimiento.",
    "I have read the consent text and agree to take part.":
        "He leído el texto de consentimiento y acepto participar.",
    "Check the box to give consent.": "Marque la casilla para dar su consentimiento.",
    "Book this time": "Reservar este horario",
    "Your booking": "Su reserva",
    "You are booked.": "Su reserva está confirmada.",
    "Add to your calendar": "Agregar a su calendario",
    "Download the calendar file (.ics)": "Descargar el archivo de calendario (.ics)",
    "Where": "Dónde",
    "Video link": "Enlace de video",
    "When": "Cuándo",
    "Change to another time": "Cambiar a otro horario",
    "Move my booking": "Cambiar mi reserva",
    "Cancel my booking": "Cancelar mi reserva",
    "Yes, cancel my booking": "Sí, cancelar mi reserva",
    "Your booking is cancelled.": "Su reserva fue cancelada.",
    "You can book again below.": "Puede reservar de nuevo abajo.",
    "You gave consent on {date} (version {version}).":
        "Usted dio su consentimiento el {date} (versión {version}).",
    "Your booking was moved.": "Su reserva fue cambiada.",
    "Sorry, that time just filled up. Choose another time.":
        "Lo sentimos, ese horario se acaba de llenar. Elija otro horario.",
    "This session is full": "Esta sesión está completa",
    "This session was cancelled by the research team.":
        "El equipo de investigación canceló esta sesión.",
    "Accessibility needs (optional)": "Necesidades de accesibilidad (opcional)",
    "Tell us about interpreters, captions or other help you need.":
        "Díganos si necesita intérprete, subtítulos u otra ayuda.",
    # Link problems
    "This link cannot be used": "No se puede usar este enlace",
    "This booking link has expired.": "Este enlace de reserva ha vencido.",
    "This booking link is not valid.": "Este enlace de reserva no es válido.",
    "This booking link was replaced or withdrawn.":
        "Este enlace de reserva fue reemplazado o retirado.",
    "Ask the research team for a new link.": "Pida un enlace nuevo al equipo de investigación.",
    # Public registration
    "Register for: {title}": "Inscribirse en: {title}",
    "Your name": "Su nombre",
    "Enter your name.": "Escriba su nombre.",
    "Email": "Correo electrónico",
    "We send your confirmation and a reminder here.":
        "Aquí le enviamos su confirmación y un recordatorio.",
    "Enter an email address like name@example.org.":
        "Escriba un correo electrónico como nombre@ejemplo.org.",
    "Preferred language": "Idioma preferido",
    "Which group describes you best? (optional)":
        "¿Qué grupo lo describe mejor? (opcional)",
    "Prefer not to say": "Prefiero no decirlo",
    "Register": "Inscribirme",
    "Registration for this session is closed.": "La inscripción para esta sesión está cerrada.",
    "You are already registered for this session.": "Ya está inscrito(a) en esta sesión.",
    # Messages
    "Invitation: {title}": "Invitación: {title}",
    "Confirmed: {title}": "Confirmado: {title}",
    "Reminder: {title}": "Recordatorio: {title}",
    "Changed: {title}": "Cambio: {title}",
    "Cancelled: {title}": "Cancelado: {title}",
    "Hello {name},": "Hola, {name}:",
    "You are invited to take part in: {title}.": "Le invitamos a participar en: {title}.",
    "Choose a time that suits you and give consent here:":
        "Elija un horario que le convenga y dé su consentimiento aquí:",
    "This link is personal. It works until {date}.":
        "Este enlace es personal. Funciona hasta el {date}.",
    "Your booking is confirmed:": "Su reserva está confirmada:",
    "This is a reminder of your session:": "Le recordamos su sesión:",
    "Your session has changed:": "Su sesión ha cambiado:",
    "Your booking was cancelled:": "Su reserva fue cancelada:",
    "The session was cancelled:": "La sesión fue cancelada:",
    "To change or cancel, use your link:": "Para cambiar o cancelar, use su enlace:",
    "The attached calendar file updates your calendar.":
        "El archivo de calendario adjunto actualiza su calendario.",
    "Thank you.": "Gracias.",
    "Interview": "Entrevista",
    "Focus group": "Grupo focal",
    "Listening session": "Sesión de escucha",
}

_DAYS_ES = ("lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo")
_MONTHS_ES = ("enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto",
              "septiembre", "octubre", "noviembre", "diciembre")


def translate(text: str, lang: str, **values) -> str:
    template = ES.get(text, text) if lang == "es" else text
    return template.format(**values) if values else template


def when(moment: datetime, zone_name: str, lang: str, with_zone: bool = True) -> str:
    """A date and time in the zone, written the way the reader's language writes it."""
    local = moment.astimezone(ZoneInfo(zone_name))
    if lang == "es":
        text = (f"{_DAYS_ES[local.weekday()]} {local.day} de {_MONTHS_ES[local.month - 1]} "
                f"de {local.year}, {local:%H:%M} {local.tzname()}")
    else:
        text = f"{local:%A, %B} {local.day}, {local.year}, {local:%-I:%M %p} {local.tzname()}"
    return f"{text} ({zone_name})" if with_zone else text


def kind_label(kind, lang: str) -> str:
    return translate(kind.label, lang)
