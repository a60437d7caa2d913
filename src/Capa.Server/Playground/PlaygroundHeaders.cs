using Microsoft.AspNetCore.Http;

namespace Capa.Server.Playground;

/// <summary>
/// The headers of every playground response. The page loads only its own files and talks only to this server:
/// no inline script or style, no third-party origin, no framing, no MIME sniffing, no referrer.
/// </summary>
internal static class PlaygroundHeaders
{
    /// <summary>
    /// The Content-Security-Policy. Images and audio may be <c>blob:</c> and <c>data:</c> URLs made by the page from API
    /// responses (generated images, speech, recordings); everything else is this origin only.
    /// </summary>
    public const string ContentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; media-src 'self' data: blob:; "
        + "connect-src 'self'; font-src 'self'; manifest-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

    /// <summary>Sets the security headers on <paramref name="response"/>.</summary>
    public static void Apply(HttpResponse response)
    {
        var headers = response.Headers;
        headers.ContentSecurityPolicy = ContentSecurityPolicy;
        headers.XContentTypeOptions = "nosniff";
        headers.XFrameOptions = "DENY";
        headers["Referrer-Policy"] = "no-referrer";
        headers["Cross-Origin-Opener-Policy"] = "same-origin";
        headers["Cross-Origin-Resource-Policy"] = "same-origin";

        // The transcription tab records from the microphone; nothing else is asked for.
        headers["Permissions-Policy"] = "microphone=(self), camera=(), geolocation=(), payment=(), usb=()";
    }
}
