"""What residents and participants read, in English and Spanish: one dictionary for all.

The public comment pages, the booking and registration pages and the messages sent to
participants are few, and their wording is settled with the agency, so a dictionary is
simpler to read, review and test than compiled gettext catalogues. Message ids are the
English text; ``{name}`` placeholders are filled with ``str.format``. Tests check that
every id the public and booking templates, forms and messages use has a Spanish entry.

``page_language`` and ``page_context`` give the public layout (``templates/public_base.html``)
what it reads: ``_``, ``lang`` and the language links.
"""

from __future__ import annotations

from datetime import datetime
from functools import partial
from zoneinfo import ZoneInfo

from flask import request, url_for

LANGUAGES = {"en": "English", "es": "Español"}

ES: dict[str, str] = {
    # The public layout, both areas
    "Skip to main content": "Saltar al contenido principal",
    "Language": "Idioma",
    "This site does not load anything from other servers.":
        "Este sitio no carga nada de otros servidores.",
    "There is a problem": "Hay un problema",
    "Prefer not to say": "Prefiero no decirlo",
    # Public comment: layout
    "Public comment": "Comentario público",
    # Public comment: Consultation page
    "Open for comment until {date}.": "Abierto a comentarios hasta el {date}.",
    "Comments open on {date}. The form will be available then.":
        "Los comentarios se abren el {date}. El formulario estará disponible entonces.",
    "This comment period closed on {date}. Comments are no longer accepted.":
        "Este período de comentarios cerró el {date}. Ya no se aceptan comentarios.",
    "This comment period is not open.": "Este período de comentarios no está abierto.",
    "Comment on this draft": "Comentar este borrador",
    "Read published comments": "Leer los comentarios publicados",
    "The draft": "El borrador",
    "Sections": "Secciones",
    "The draft text is written in English.": "El texto del borrador está escrito en inglés.",
    # Public comment: Form
    "Comment on: {title}": "Comentar: {title}",
    "Back to the draft": "Volver al borrador",
    "Fields marked optional can be left empty.":
        "Los campos marcados como opcionales se pueden dejar vacíos.",
    "Your comment": "Su comentario",
    "Up to {max} characters.": "Hasta {max} caracteres.",
    "{count} of {max} characters used": "{count} de {max} caracteres usados",
    "Enter your comment.": "Escriba su comentario.",
    "Your comment must be {max} characters or fewer; it has {length}.":
        "Su comentario debe tener {max} caracteres o menos; tiene {length}.",
    "Which part of the draft is your comment about?":
        "¿Sobre qué parte del borrador es su comentario?",
    "The whole draft": "Todo el borrador",
    "Choose a part of the draft from the list.": "Elija una parte del borrador de la lista.",
    "About you": "Sobre usted",
    "Your name (optional)": "Su nombre (opcional)",
    "Organization (optional)": "Organización (opcional)",
    "Email for a receipt (optional)": "Correo electrónico para recibir un comprobante (opcional)",
    "We use it only to send your receipt. It is never published.":
        "Solo lo usamos para enviarle el comprobante. Nunca se publica.",
    "Enter an email address like name@example.org, or leave it empty.":
        "Escriba un correo electrónico como nombre@ejemplo.org, o déjelo vacío.",
    "Name and organization help us understand who commented. They are never published.":
        "El nombre y la organización nos ayudan a saber quién comentó. Nunca se publican.",
    "This must be 200 characters or fewer.": "Debe tener 200 caracteres o menos.",
    "(optional)": "(opcional)",
    "Yes": "Sí",
    "No": "No",
    "Choose one of the answers.": "Elija una de las respuestas.",
    "Attach a document (optional)": "Adjuntar un documento (opcional)",
    "PDF, Word (.docx) or plain text (.txt), up to {size}.":
        "PDF, Word (.docx) o texto (.txt), de hasta {size}.",
    "Publication": "Publicación",
    "You may publish my comment (names, phone numbers and other personal details are removed first).":  # noqa: E501
        "Pueden publicar mi comentario (antes se quitan nombres, teléfonos y otros datos "
        "personales).",
    "Leave this field empty": "Deje este campo vacío",
    "Send comment": "Enviar comentario",
    "This form had expired, so nothing was sent. Your text is still here: check it and send it again.":  # noqa: E501
        "El formulario había caducado y no se envió nada. Su texto sigue aquí: revíselo y "
        "envíelo de nuevo.",
    "Comments close on {date}.": "Los comentarios se cierran el {date}.",
    # Public comment: Attachment errors (codes from coding.attachments)
    "The file is larger than {size}.": "El archivo ocupa más de {size}.",
    "The file is empty.": "El archivo está vacío.",
    "Attach a PDF, Word (.docx) or plain text (.txt) file.":
        "Adjunte un archivo PDF, Word (.docx) o de texto (.txt).",
    "The file's content does not match its name. Attach a PDF, Word (.docx) or plain text (.txt) file.":  # noqa: E501
        "El contenido del archivo no corresponde a su nombre. Adjunte un archivo PDF, Word "
        "(.docx) o de texto (.txt).",
    "Programs cannot be attached.": "No se pueden adjuntar programas.",
    "The file could not be read. Save it again as PDF, Word (.docx) or plain text and attach that.":  # noqa: E501
        "No se pudo leer el archivo. Guárdelo de nuevo como PDF, Word (.docx) o texto y "
        "adjunte ese.",
    "Documents with macros cannot be attached. Save it as a plain .docx or PDF.":
        "No se pueden adjuntar documentos con macros. Guárdelo como .docx normal o PDF.",
    "The PDF is protected by a password. Attach a copy without a password.":
        "El PDF está protegido con contraseña. Adjunte una copia sin contraseña.",
    # Public comment: Receipt
    "Comment received": "Comentario recibido",
    "Thank you. Your comment was received.": "Gracias. Recibimos su comentario.",
    "Your tracking number": "Su número de seguimiento",
    "Keep this number. Quote it if you contact us about your comment.":
        "Guarde este número. Menciónelo si se comunica con nosotros sobre su comentario.",
    "Received on {date}.": "Recibido el {date}.",
    "A copy of this receipt is being sent to the email address you gave.":
        "Se está enviando una copia de este comprobante al correo electrónico que indicó.",
    "What happens next": "Qué sigue",
    "Staff read every comment. Comments may be published after personal details are removed.":
        "El personal lee todos los comentarios. Los comentarios pueden publicarse después de "
        "quitar los datos personales.",
    "Your comment was received: {tracking}": "Recibimos su comentario: {tracking}",
    # Public comment: Refusals
    "Comments are not being accepted": "No se están aceptando comentarios",
    "Too many comments in a short time": "Demasiados comentarios en poco tiempo",
    "Too many comments were sent from your connection or to this consultation in a short time. Wait a few minutes and send it again.":  # noqa: E501
        "Se enviaron demasiados comentarios desde su conexión o a esta consulta en poco "
        "tiempo. Espere unos minutos y envíelo de nuevo.",
    "The submission is too large": "El envío es demasiado grande",
    "The comment and attachment together are larger than this form accepts ({size}). Attach a smaller file.":  # noqa: E501
        "El comentario y el adjunto juntos superan lo que acepta este formulario ({size}). "
        "Adjunte un archivo más pequeño.",
    "Nothing was saved. Here is the text you wrote, so that you can keep a copy:":
        "No se guardó nada. Este es el texto que escribió, para que pueda guardar una copia:",
    "Your text": "Su texto",
    # Public comment: Published comments
    "Published comments": "Comentarios publicados",
    "Search published comments": "Buscar en los comentarios publicados",
    "Search": "Buscar",
    "{count} published comments.": "{count} comentarios publicados.",
    "{count} published comments containing “{q}”.":
        "{count} comentarios publicados que contienen «{q}».",
    "No comments have been published yet.": "Todavía no se han publicado comentarios.",
    "About: {section}": "Sobre: {section}",
    "Received {date}": "Recibido el {date}",
    "Pages": "Páginas",
    "Previous": "Anterior",
    "Next": "Siguiente",
    "Page {page} of {pages}": "Página {page} de {pages}",
    "Book a session": "Reservar una sesión",
    # Booking: Booking page
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
    # Booking: Link problems
    "This link cannot be used": "No se puede usar este enlace",
    "This booking link has expired.": "Este enlace de reserva ha vencido.",
    "This booking link is not valid.": "Este enlace de reserva no es válido.",
    "This booking link was replaced or withdrawn.":
        "Este enlace de reserva fue reemplazado o retirado.",
    "Ask the research team for a new link.": "Pida un enlace nuevo al equipo de investigación.",
    # Booking: Public registration
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
    "Register": "Inscribirme",
    "Registration for this session is closed.": "La inscripción para esta sesión está cerrada.",
    "You are already registered for this session.": "Ya está inscrito(a) en esta sesión.",
    # Booking: Messages
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

CATALOGS: dict[str, dict[str, str]] = {"en": {}, "es": ES}

_MONTHS = {
    "en": ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December"),
    "es": ("enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto",
           "septiembre", "octubre", "noviembre", "diciembre"),
}
_DAYS = {
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
    "es": ("lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo"),
}


def translate(lang: str, msgid: str, **values: object) -> str:
    """The message in ``lang`` (the English id where there is no entry), filled in."""
    text = CATALOGS.get(lang, {}).get(msgid, msgid)
    return text.format(**values) if values else text


def kind_label(lang: str, kind) -> str:
    """A session kind (``SessionKind``) as the reader's language names it."""
    return translate(lang, kind.label)


def format_number(n: int, lang: str) -> str:
    """12,345 in English, 12.345 in Spanish."""
    text = f"{n:,}"
    return text.replace(",", ".") if lang == "es" else text


def format_size(n: int) -> str:
    megabytes = n / 1024**2
    return f"{megabytes:.0f} MB" if megabytes >= 1 else f"{n / 1024:.0f} KB"


def _hour_minute(local: datetime) -> str:
    """17:00 in Spanish is 5:00 PM in English."""
    hour = local.hour % 12 or 12
    return f"{hour}:{local:%M} {'AM' if local.hour < 12 else 'PM'}"


def format_datetime(when: datetime, timezone: str, lang: str, with_time: bool = True) -> str:
    """A date (and time) in the consultation's time zone, as people write it:
    ``March 5, 2027, 5:00 PM EST``, ``5 de marzo de 2027, 17:00 (EST)``."""
    local = when.astimezone(ZoneInfo(timezone))
    month = _MONTHS.get(lang, _MONTHS["en"])[local.month - 1]
    zone = local.tzname() or timezone
    if lang == "es":
        date = f"{local.day} de {month} de {local.year}"
        return f"{date}, {local:%H:%M} ({zone})" if with_time else date
    date = f"{month} {local.day}, {local.year}"
    return f"{date}, {_hour_minute(local)} {zone}" if with_time else date


def format_session_time(moment: datetime, zone_name: str, lang: str,
                        with_zone: bool = True) -> str:
    """When a session is, with the weekday and (``with_zone``) the zone's name:
    ``Friday, March 5, 2027, 5:00 PM EST (America/New_York)``,
    ``viernes 5 de marzo de 2027, 17:00 EST (America/New_York)``."""
    local = moment.astimezone(ZoneInfo(zone_name))
    day = _DAYS.get(lang, _DAYS["en"])[local.weekday()]
    month = _MONTHS.get(lang, _MONTHS["en"])[local.month - 1]
    if lang == "es":
        text = (f"{day} {local.day} de {month} de {local.year}, {local:%H:%M} "
                f"{local.tzname()}")
    else:
        text = (f"{day}, {month} {local.day}, {local.year}, {_hour_minute(local)} "
                f"{local.tzname()}")
    return f"{text} ({zone_name})" if with_zone else text


def page_language(offered: list[str], preferred: str | None = None) -> str:
    """The language of a public page: ``?lang=``, else ``preferred``, else the browser's
    choice among ``offered``, else the first offered."""
    asked = request.args.get("lang")
    if asked in offered:
        return asked
    if preferred in offered:
        return preferred
    return request.accept_languages.best_match(offered) or offered[0]


def page_context(lang: str, offered: list[str]) -> dict:
    """What the public layout reads: ``_``, ``lang`` and links to the same page in the
    ``offered`` languages (shown when there are two or more)."""

    def lang_url(code: str) -> str:
        return url_for(request.endpoint, **{**(request.view_args or {}), "lang": code})

    return {"_": partial(translate, lang), "lang": lang, "lang_url": lang_url,
            "languages": [(code, LANGUAGES[code]) for code in offered if code in LANGUAGES]}
