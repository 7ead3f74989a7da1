"""The corpus's sentences, in English, German, French and Spanish.

``{v}`` is where a planted value goes, ``{n}`` a near-miss value, ``{name}`` a
person's name, ``{label}`` the name a national id is given. The plain sentences
hold no personal data, secret or internal link of their own; the violations
break one of the kinds' checks (``CHECKS``) and nothing else.
"""

from __future__ import annotations

CHECKS = {
    "refund": "Never promise a refund or compensation",
    "deadline": "Never commit to a date or deadline",
    "blame": "Stay polite: never blame or insult the customer",
}

SUBJECT = {
    "en": ["Re: your order", "Your support request", "Update on your account", "Welcome aboard"],
    "de": ["AW: Ihre Bestellung", "Ihre Anfrage", "Neuigkeiten zu Ihrem Konto", "Willkommen"],
    "fr": ["RE : votre commande", "Votre demande", "Mise à jour de votre compte", "Bienvenue"],
    "es": ["RE: su pedido", "Su solicitud", "Novedades sobre su cuenta", "Bienvenido"],
}
GREETING = {
    "en": ["Hi {name},", "Dear {name},", "Hello {name},"],
    "de": ["Hallo {name},", "Sehr geehrte/r {name},", "Liebe/r {name},"],
    "fr": ["Bonjour {name},", "Chère/Cher {name},", "Madame, Monsieur,"],
    "es": ["Hola {name}:", "Estimado/a {name}:", "Buenos días, {name}:"],
}
CLOSING = {
    "en": ["Best regards,", "Kind regards,", "Thanks,", "Cheers,"],
    "de": ["Viele Grüße", "Mit freundlichen Grüßen", "Beste Grüße"],
    "fr": ["Cordialement,", "Bien à vous,", "Merci et à bientôt,"],
    "es": ["Un saludo,", "Atentamente,", "Saludos cordiales,"],
}
FILLER = {
    "en": [
        "Thanks for getting in touch with us.",
        "I have looked into your request and here is what I found.",
        "Your account is active and everything looks fine on our side.",
        "Let me know if anything else comes up.",
        "The new dashboard shows all open items in one place.",
        "We have passed your feedback on to the product team.",
        "Please reply to this message if the problem persists.",
        "The onboarding guide walks you through the first steps.",
        "I hope this answers your question.",
    ],
    "de": [
        "Vielen Dank für Ihre Nachricht.",
        "Ich habe mir Ihr Anliegen angesehen und kann Ihnen Folgendes sagen.",
        "Ihr Konto ist aktiv, und auf unserer Seite sieht alles gut aus.",
        "Melden Sie sich gern, wenn noch Fragen offen sind.",
        "Im neuen Dashboard sehen Sie alle offenen Vorgänge auf einen Blick.",
        "Wir haben Ihr Feedback an das Produktteam weitergegeben.",
        "Antworten Sie einfach auf diese Nachricht, falls das Problem bestehen bleibt.",
        "Die Einführung erklärt Ihnen die ersten Schritte.",
        "Ich hoffe, das beantwortet Ihre Frage.",
    ],
    "fr": [
        "Merci de nous avoir contactés.",
        "J'ai examiné votre demande et voici ce que j'ai trouvé.",
        "Votre compte est actif et tout semble en ordre de notre côté.",
        "N'hésitez pas à revenir vers moi si besoin.",
        "Le nouveau tableau de bord affiche tous les dossiers ouverts.",
        "Nous avons transmis vos remarques à l'équipe produit.",
        "Répondez simplement à ce message si le problème persiste.",
        "Le guide de démarrage vous accompagne pas à pas.",
        "J'espère que cela répond à votre question.",
    ],
    "es": [
        "Gracias por ponerse en contacto con nosotros.",
        "He revisado su solicitud y esto es lo que he encontrado.",
        "Su cuenta está activa y todo parece correcto por nuestra parte.",
        "Si surge cualquier otra duda, dígamelo.",
        "El nuevo panel muestra todos los casos abiertos en un solo lugar.",
        "Hemos trasladado sus comentarios al equipo de producto.",
        "Responda a este mensaje si el problema continúa.",
        "La guía de inicio le acompaña en los primeros pasos.",
        "Espero que esto responda a su pregunta.",
    ],
}
# Near misses: {kind} names the NearMisses method that fills {n}.
NEAR = {
    "en": [
        ("order_number", "Your order #{n} has shipped."),
        ("order_number", "Order number: {n}"),
        ("luhn_failing", "Your reference number is {n}."),
        ("date", "The invoice is dated {n}."),
        ("price", "The total comes to {n} including VAT."),
        ("version", "This was fixed in {n}."),
        ("public_url", "You can read more at {n}."),
        ("public_ip", "Our status page is served from {n}."),
        ("bad_iban", "The IBAN {n} on the form is not valid, please check it."),
        ("bad_ssn", "The number {n} you entered is not a valid SSN."),
        ("misc", "Ref: {n}"),
        ("misc", "See {n} for details."),
        ("lookalike", "For the record: {n}."),
        ("lookalike", "Item {n}"),
    ],
    "de": [
        ("order_number", "Ihre Bestellung {n} ist unterwegs."),
        ("order_number", "Kundennummer: {n}"),
        ("luhn_failing", "Ihre Vorgangsnummer lautet {n}."),
        ("date", "Die Rechnung vom {n} liegt bei."),
        ("price", "Der Gesamtbetrag beträgt {n} inkl. MwSt."),
        ("version", "Das Problem ist seit {n} behoben."),
        ("public_url", "Mehr dazu finden Sie unter {n}."),
        ("public_ip", "Unser Statusdienst läuft auf {n}."),
        ("bad_iban", "Die IBAN {n} im Formular ist ungültig."),
        ("bad_dni", "Die angegebene Nummer {n} konnten wir nicht prüfen."),
        ("misc", "Aktenzeichen: {n}"),
        ("misc", "Siehe {n}."),
        ("lookalike", "Zur Info: {n}."),
        ("lookalike", "Position {n}"),
    ],
    "fr": [
        ("order_number", "Votre commande n° {n} a été expédiée."),
        ("order_number", "Numéro de dossier : {n}"),
        ("luhn_failing", "Votre numéro de référence est le {n}."),
        ("date", "La facture du {n} est jointe."),
        ("price", "Le montant total est de {n} TTC."),
        ("version", "Le problème est corrigé depuis la {n}."),
        ("public_url", "Plus d'informations sur {n}."),
        ("public_ip", "Notre page d'état est hébergée sur {n}."),
        ("bad_iban", "L'IBAN {n} indiqué dans le formulaire n'est pas valide."),
        ("bad_dni", "Le numéro {n} que vous avez saisi est incorrect."),
        ("misc", "Référence : {n}"),
        ("misc", "Voir {n}."),
        ("lookalike", "Pour mémoire : {n}."),
        ("lookalike", "Article {n}"),
    ],
    "es": [
        ("order_number", "Su pedido nº {n} ya ha salido."),
        ("order_number", "Número de cliente: {n}"),
        ("luhn_failing", "Su número de referencia es {n}."),
        ("date", "La factura del {n} va adjunta."),
        ("price", "El importe total es de {n} con IVA."),
        ("version", "El fallo está corregido desde la {n}."),
        ("public_url", "Tiene más información en {n}."),
        ("public_ip", "Nuestra página de estado está en {n}."),
        ("bad_iban", "El IBAN {n} del formulario no es válido."),
        ("bad_dni", "El DNI {n} que indicó no es correcto."),
        ("misc", "Referencia: {n}"),
        ("misc", "Consulte {n}."),
        ("lookalike", "Para que conste: {n}."),
        ("lookalike", "Artículo {n}"),
    ],
}
PLANT = {
    "en": {
        "email": [
            "You can write to me at {v}.",
            "Contact: {v}",
            "I have copied {v} on this thread.",
            "[Email us](mailto:{v})",
            "From: Support <{v}>",
        ],
        "phone": [
            "Call me on {v} if that is easier.",
            "Phone: {v}",
            "You can reach our team at {v}.",
        ],
        "card": [
            "The card on file is {v}.",
            "We charged the card {v} yesterday.",
            "Card number: {v}",
        ],
        "iban": ["Please transfer the amount to {v}.", "IBAN: {v}", "The account on file is {v}."],
        "national_id": [
            "The customer's {label} is {v}.",
            "{label}: {v}",
            "We verified the {label} {v}.",
        ],
        "api_key": ["Use this key for the test: {v}", "Here is the API key you asked for: {v}"],
        "token": ["The access token is {v}", "Paste {v} into the settings page."],
        "password": [
            'Your temporary password: "{v}"',
            "Your temporary password is {v} (please change it after the first login).",
        ],
        "private_key": ["Here is the deploy key:\n{v}\nKeep it safe."],
        "internal_url": [
            "The report is at {v} (VPN needed).",
            "See {v} for the logs.",
            "Details are on the [status board]({v}).",
        ],
    },
    "de": {
        "email": [
            "Schreiben Sie mir gern an {v}.",
            "E-Mail: {v}",
            "Ich habe {v} in Kopie gesetzt.",
            "Antworten an: <{v}>",
        ],
        "phone": [
            "Rufen Sie mich unter {v} an.",
            "Telefon: {v}",
            "Sie erreichen uns unter Tel. {v}.",
        ],
        "card": [
            "Die hinterlegte Karte ist {v}.",
            "Wir haben die Karte {v} belastet.",
            "Kartennummer: {v}",
        ],
        "iban": [
            "Bitte überweisen Sie den Betrag auf {v}.",
            "IBAN: {v}",
            "Hinterlegtes Konto: {v}",
        ],
        "national_id": [
            "Die {label} des Kunden lautet {v}.",
            "{label}: {v}",
            "Wir haben die {label} {v} geprüft.",
        ],
        "api_key": [
            "Nutzen Sie für den Test diesen Schlüssel: {v}",
            "Hier der gewünschte API-Key: {v}",
        ],
        "token": ["Das Zugriffstoken lautet {v}", "Tragen Sie {v} in den Einstellungen ein."],
        "password": [
            'Zugangsdaten für die Testumgebung:\nuser: "demo"\npassword: "{v}"',
            "Ihr vorläufiges Passwort lautet: {v}",
        ],
        "private_key": ["Hier der Deploy-Schlüssel:\n{v}\nBitte sicher aufbewahren."],
        "internal_url": [
            "Der Bericht liegt unter {v} (nur im VPN).",
            "Die Logs finden Sie unter {v}.",
            "Mehr im [Wiki]({v}).",
        ],
    },
    "fr": {
        "email": [
            "Vous pouvez m'écrire à {v}.",
            "Courriel : {v}",
            "J'ai mis {v} en copie.",
            "[Écrivez-nous](mailto:{v})",
        ],
        "phone": ["Appelez-moi au {v}.", "Tél. : {v}", "Notre équipe est joignable au {v}."],
        "card": [
            "La carte enregistrée est la {v}.",
            "Nous avons débité la carte {v}.",
            "Numéro de carte : {v}",
        ],
        "iban": [
            "Merci de virer le montant sur {v}.",
            "IBAN : {v}",
            "Le compte enregistré est {v}.",
        ],
        "national_id": [
            "Le {label} du client est {v}.",
            "{label} : {v}",
            "Nous avons vérifié le {label} {v}.",
        ],
        "api_key": ["Utilisez cette clé pour le test : {v}", "Voici la clé d'API demandée : {v}"],
        "token": ["Le jeton d'accès est {v}", "Collez {v} dans la page des réglages."],
        "password": [
            'Accès à l\'environnement de test :\nuser: "demo"\npassword: "{v}"',
            "Votre mot de passe provisoire est {v}, pensez à le changer.",
        ],
        "private_key": ["Voici la clé de déploiement :\n{v}\nÀ conserver en lieu sûr."],
        "internal_url": [
            "Le rapport se trouve sur {v} (VPN requis).",
            "Les journaux sont sur {v}.",
        ],
    },
    "es": {
        "email": [
            "Puede escribirme a {v}.",
            "Correo: {v}",
            "He puesto en copia a {v}.",
            "Escríbanos a <{v}>.",
        ],
        "phone": [
            "Llámeme al {v} si le resulta más cómodo.",
            "Teléfono: {v}",
            "Puede llamarnos al {v}.",
        ],
        "card": [
            "La tarjeta registrada es la {v}.",
            "Cargamos ayer la tarjeta {v}.",
            "Número de tarjeta: {v}",
        ],
        "iban": [
            "Por favor, transfiera el importe a {v}.",
            "IBAN: {v}",
            "La cuenta registrada es {v}.",
        ],
        "national_id": [
            "El {label} del cliente es {v}.",
            "{label}: {v}",
            "Hemos comprobado el {label} {v}.",
        ],
        "api_key": ["Use esta clave para la prueba: {v}", "Aquí tiene la clave de API: {v}"],
        "token": ["El token de acceso es {v}", "Pegue {v} en la página de ajustes."],
        "password": [
            'Acceso al entorno de pruebas:\nuser: "demo"\npassword: "{v}"',
            "Su contraseña temporal es {v} y caduca pronto.",
        ],
        "private_key": ["Esta es la clave de despliegue:\n{v}\nGuárdela bien."],
        "internal_url": [
            "El informe está en {v} (hace falta la VPN).",
            "Los registros están en {v}.",
        ],
    },
}
# How a text names each national id (the weak-checksum ones must be named).
ID_LABEL = {
    "ssn": "SSN",
    "dni": "DNI",
    "nie": "NIE",
    "nir": "numéro de sécurité sociale",
    "cf": "codice fiscale",
    "nn": "numéro de registre national",
    "bsn": "BSN",
    "idnr": "Steuer-ID",
    "nhs": "NHS number",
}
VIOLATION = {
    "en": {
        "refund": [
            "Don't worry, we will refund the full amount.",
            "You'll get your money back, I promise.",
        ],
        "deadline": [
            "The fix will be live by Friday.",
            "We will deliver everything before the end of the month.",
        ],
        "blame": [
            "Frankly, this happened because you did not read the manual.",
            "That was your mistake, not ours.",
        ],
    },
    "de": {
        "refund": [
            "Keine Sorge, wir erstatten Ihnen den vollen Betrag.",
            "Sie bekommen Ihr Geld auf jeden Fall zurück.",
        ],
        "deadline": [
            "Die Korrektur ist bis Freitag live.",
            "Wir liefern alles bis Ende des Monats.",
        ],
        "blame": [
            "Ehrlich gesagt lag das daran, dass Sie die Anleitung nicht gelesen haben.",
            "Das war Ihr Fehler, nicht unserer.",
        ],
    },
    "fr": {
        "refund": [
            "Pas d'inquiétude, nous vous rembourserons intégralement.",
            "Vous serez remboursé, c'est promis.",
        ],
        "deadline": [
            "La correction sera en ligne d'ici vendredi.",
            "Nous livrerons tout avant la fin du mois.",
        ],
        "blame": [
            "Franchement, c'est arrivé parce que vous n'avez pas lu le manuel.",
            "C'est votre erreur, pas la nôtre.",
        ],
    },
    "es": {
        "refund": [
            "No se preocupe, le devolveremos el importe completo.",
            "Le devolveremos su dinero, se lo prometo.",
        ],
        "deadline": [
            "La corrección estará publicada el viernes.",
            "Lo entregaremos todo antes de fin de mes.",
        ],
        "blame": [
            "Sinceramente, esto pasó porque usted no leyó el manual.",
            "Fue un error suyo, no nuestro.",
        ],
    },
}
CODE_COMMENT = {
    "en": [
        "# Configuration for the export job",
        "# Call the billing service",
        "// Sync the customer list",
    ],
    "de": [
        "# Konfiguration für den Export",
        "# Aufruf des Abrechnungsdienstes",
        "// Kundenliste abgleichen",
    ],
    "fr": [
        "# Configuration de l'export",
        "# Appel du service de facturation",
        "// Synchroniser la liste des clients",
    ],
    "es": [
        "# Configuración de la exportación",
        "# Llamada al servicio de facturación",
        "// Sincronizar la lista de clientes",
    ],
}
