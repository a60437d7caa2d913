using Capa.Storage.Files.S3;

namespace Capa.Storage.Tests.Files;

/// <summary>Signature Version 4 against the examples AWS publishes with their expected signatures.</summary>
public sealed class SigV4SignerTests
{
    private static readonly DateTimeOffset S3ExampleTime = new(2013, 5, 24, 0, 0, 0, TimeSpan.Zero);

    [Fact]
    public void The_s3_get_object_example_gives_awss_signature()
    {
        // S3 API reference, "Signature Calculations for the Authorization Header", GET Object.
        var signer = new SigV4Signer("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "us-east-1", "s3");
        var headers = new Dictionary<string, string>
        {
            ["host"] = "examplebucket.s3.amazonaws.com",
            ["range"] = "bytes=0-9",
            ["x-amz-content-sha256"] = SigV4Signer.EmptyPayloadHash,
            ["x-amz-date"] = "20130524T000000Z",
        };

        string authorization = signer.Authorization("GET", "/test.txt", "", headers, SigV4Signer.EmptyPayloadHash, S3ExampleTime);

        Assert.Equal(
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41",
            authorization);
    }

    [Fact]
    public void The_iam_list_users_example_gives_awss_signature()
    {
        // General reference, "Signature Version 4 signing process" worked example (IAM ListUsers).
        var signer = new SigV4Signer("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "us-east-1", "iam");
        var headers = new Dictionary<string, string>
        {
            ["content-type"] = "application/x-www-form-urlencoded; charset=utf-8",
            ["host"] = "iam.amazonaws.com",
            ["x-amz-date"] = "20150830T123600Z",
        };

        string authorization = signer.Authorization("GET", "/", "Version=2010-05-08&Action=ListUsers", headers, SigV4Signer.EmptyPayloadHash,
            new DateTimeOffset(2015, 8, 30, 12, 36, 0, TimeSpan.Zero));

        Assert.EndsWith("Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7", authorization, StringComparison.Ordinal);
        Assert.Equal("c4afb1cc5771d871763a393e44b703571b55cc28424d1a5e86da6ed3c154a4b9", Convert.ToHexStringLower(signer.SigningKey("20150830")));
    }

    [Fact]
    public void Signing_a_request_signs_its_headers_path_and_body_hash_as_the_s3_put_object_example()
    {
        var signer = new SigV4Signer("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "us-east-1", "s3");
        using var request = new HttpRequestMessage(HttpMethod.Put, "https://examplebucket.s3.amazonaws.com/" + SigV4Signer.Encode("test$file.text", keepSlashes: true));
        request.Headers.Date = S3ExampleTime;
        request.Headers.TryAddWithoutValidation("x-amz-storage-class", "REDUCED_REDUNDANCY");

        signer.Sign(request, "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072", S3ExampleTime);

        Assert.Equal(
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, SignedHeaders=date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class, Signature=98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd",
            string.Join(",", request.Headers.GetValues("Authorization")));
    }

    [Fact]
    public void Signing_a_listing_sorts_its_query_as_the_s3_list_objects_example()
    {
        var signer = new SigV4Signer("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "us-east-1", "s3");
        using var request = new HttpRequestMessage(HttpMethod.Get, "https://examplebucket.s3.amazonaws.com/?prefix=J&max-keys=2");

        signer.Sign(request, SigV4Signer.EmptyPayloadHash, S3ExampleTime);

        Assert.EndsWith("Signature=34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7", string.Join(",", request.Headers.GetValues("Authorization")), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("abc-_.~", false, "abc-_.~")]
    [InlineData("a b/c", false, "a%20b%2Fc")]
    [InlineData("a b/c", true, "a%20b/c")]
    [InlineData("猫=+", false, "%E7%8C%AB%3D%2B")]
    public void Encoding_keeps_only_unreserved_characters(string value, bool keepSlashes, string expected) =>
        Assert.Equal(expected, SigV4Signer.Encode(value, keepSlashes));
}
