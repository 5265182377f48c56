import { describe, expect, it } from "vitest";
import { scrubFreeText } from "../../src/ledger/free-text.js";

// QA (issue 9, trust): a request reason "carol asked via carol@mail.example" for subject `carol` was stored as
// "[SUBJECT] asked via [SUBJECT]@mail.example": masking the id first hid the address from the email detector,
// and the rest of it stayed on the append-only ledger (a domain or a surname can name the person).
describe("an email address that contains the subject's id or the entry's key", () => {
  it("is masked whole", () => {
    expect(scrubFreeText("carol asked via carol@mail.example", { subjects: ["carol"] })).toBe(
      "[SUBJECT] asked via [EMAIL]",
    );
    expect(scrubFreeText("write to john.smith@smith-family.example", { subjects: ["john"] })).not.toMatch(
      /smith|family/,
    );
    expect(scrubFreeText("owner row-1771@corp.example", { keys: ["row-1771"] })).toBe("owner [EMAIL]");
    // A marker that is not part of an address is left as it was.
    expect(scrubFreeText("ticket for carol, litigation", { subjects: ["carol"] })).toBe(
      "ticket for [SUBJECT], litigation",
    );
  });
});
