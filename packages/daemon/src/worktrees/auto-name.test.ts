import { describe, expect, it } from "vitest";
import { MAX_AUTO_NAME, slugify } from "./auto-name.ts";

describe("slugify", () => {
  it("lowercases and joins the words with -", () => {
    expect(slugify("Fix the login redirect bug")).toBe("fix-the-login-redirect-bug");
  });

  it("keeps only a-z, 0-9 and single dashes, none at the ends", () => {
    expect(slugify("  --Add OAuth2 (Google) support!!  ")).toBe("add-oauth2-google-support");
    expect(slugify("FEAT_X/y.z")).toBe("feat-x-y-z");
    expect(slugify("Café crème")).toBe("cafe-creme");
  });

  it("cuts at a word boundary to the maximum length", () => {
    const slug = slugify(
      "refactor the configuration loader so that project files are merged field by field",
    );
    expect(slug).toBe("refactor-the-configuration-loader-so");
    expect(slug.length).toBeLessThanOrEqual(MAX_AUTO_NAME);
    expect(slugify("a".repeat(60))).toBe("a".repeat(MAX_AUTO_NAME));
  });

  it("is empty when there is no letter or digit", () => {
    expect(slugify("!!! ... ???")).toBe("");
  });
});
